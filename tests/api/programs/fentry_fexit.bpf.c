// fentry/fexit programs on inet_listen(struct socket *sock, int backlog) -> int, whose context the
// kernel's BTF gives: u64 args[2], and for fexit the return value in args[2]. Both must return 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

static __always_inline int keep(__u64 v) {
  __u32 key = 0;
  bpf_map_update_elem(&seen, &key, &v, BPF_ANY);
  return 0;
}

SEC("fentry/inet_listen")
int fentry_backlog(__u64 *ctx) { return keep(ctx[1]); }

SEC("fexit/inet_listen")
int fexit_result(__u64 *ctx) { return keep(ctx[1] + ctx[2]); }

SEC("fentry/inet_listen")
int fentry_past_args(__u64 *ctx) { return keep(ctx[2]); }  // fentry has no return slot

SEC("fentry/inet_listen")
int fentry_returns_1(__u64 *ctx) { return keep(ctx[1]) + 1; }  // fentry/fexit must return 0

char LICENSE[] SEC("license") = "GPL";
