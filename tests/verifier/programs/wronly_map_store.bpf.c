// verdict: accept
// The program stores into a BPF_F_WRONLY_PROG map's value, which that flag allows.
#include "wronly_map.h"

SEC("xdp")
int wronly_map_store(struct xdp_md *ctx) {
  __u32 slot = 0;
  __u64 *v = bpf_map_lookup_elem(&sink, &slot);
  if (v) *v = ctx->ingress_ifindex;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
