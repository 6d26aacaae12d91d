// verdict: accept
// The program stores into a BPF_F_WRONLY_PROG map's value, which that flag allows.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __uint(map_flags, BPF_F_WRONLY_PROG);
  __type(key, __u32);
  __type(value, __u64);
} sink SEC(".maps");

SEC("xdp")
int wronly_map_store(struct xdp_md *ctx) {
  __u32 slot = 0;
  __u64 *v = bpf_map_lookup_elem(&sink, &slot);
  if (v) *v = ctx->ingress_ifindex;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
