// verdict: accept
// The dynptr kfuncs on a local dynptr over a map value: size, is_null, is_rdonly, adjust, a read-only
// slice (NULL-checked, inside its __szk size, with and without a buffer), a clone.
#include "dynptr_kfuncs.h"
#include "dynptr_value.h"

SEC("xdp")
int kfunc_dynptr_slice(struct xdp_md *xdp) {
  struct bpf_dynptr dp, copy;
  __u64 buffer[2];
  __u64 *val = dynptr_value();
  if (!val) return XDP_ABORTED;
  bpf_dynptr_from_mem(val, 32, 0, &dp);
  __u32 size = bpf_dynptr_size(&dp);
  if (bpf_dynptr_is_null(&dp) || bpf_dynptr_is_rdonly(&dp)) return XDP_DROP;
  const __u64 *v = bpf_dynptr_slice(&dp, 16, NULL, 8);
  if (!v || size != 32) return XDP_DROP;
  if (bpf_dynptr_adjust(&dp, 8, 24)) return XDP_DROP;
  const __u64 *r = bpf_dynptr_slice(&dp, 8, buffer, sizeof buffer);
  __u64 out = r ? r[0] : 0;
  if (bpf_dynptr_clone(&dp, &copy) == 0 && bpf_dynptr_size(&copy) == 16) out += 1;
  return out == *v + 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
