// verdict: accept
// Storing over a local (unreferenced) dynptr's slot is allowed: the dynptr is destroyed and the bytes
// are data again, so a later load of the stored word verifies.
#include "dynptr_value.h"

SEC("xdp")
int dynptr_overwritten_store_ok(struct xdp_md *xdp) {
  __u64 *buf = dynptr_value();
  if (!buf) return XDP_ABORTED;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, 32, 0, &dp);
  *((volatile __u64 *)&dp + 1) = 3;
  return *((volatile __u64 *)&dp + 1) & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
