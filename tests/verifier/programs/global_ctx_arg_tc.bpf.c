// verdict: accept
// `struct __sk_buff *` is the tc context.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int skb_len(struct __sk_buff *skb) {
  return (int)skb->len;
}

SEC("tc")
int tc_ctx_arg(struct __sk_buff *skb) {
  return skb_len(skb) > 64 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
