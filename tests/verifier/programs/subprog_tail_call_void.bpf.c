// verdict: reject
// error: tail_call is only allowed in functions that return 'int'
// bpf_tail_call in a static subprogram whose BTF return type is void (check_btf_func).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} jmp SEC(".maps");

static __attribute__((noinline)) void dispatch(struct __sk_buff *skb) { bpf_tail_call(skb, &jmp, skb->mark & 3); }

SEC("tc")
int subprog_tail_call_void(struct __sk_buff *skb) {
  dispatch(skb);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
