// verdict: reject
// error: read from map forbidden
// A map the program may only write (BPF_F_WRONLY_PROG): storing into its value is fine, loading from
// it is not (the kernel's check_map_access_type).
#include "wronly_map.h"

SEC("xdp")
int wronly_map_load(struct xdp_md *ctx) {
  __u32 slot = 1;
  volatile __u64 *v = bpf_map_lookup_elem(&sink, &slot);
  if (!v) return XDP_PASS;
  return *v == 7 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
