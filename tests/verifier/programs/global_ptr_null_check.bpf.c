// verdict: accept
// The same global function with a NULL check: accepted; the caller's buffer is initialised and big
// enough, and a map lookup result passed without its own NULL check is fine too (NULL is allowed).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
  long a, b;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pair);
} pairs SEC(".maps");

__noinline int sum(struct pair *p) {
  if (!p) return 0;
  p->b += 1;  // the callee may write the caller's memory
  return (int)(p->a + p->b);
}

SEC("xdp")
int xdp_ptr_null_check(struct xdp_md *ctx) {
  struct pair local = {ctx->ingress_ifindex, 1};
  __u32 key = 0;
  int r = sum(&local);
  r += sum(bpf_map_lookup_elem(&pairs, &key));
  return (r + (int)local.b) & 3;
}

char LICENSE[] SEC("license") = "GPL";
