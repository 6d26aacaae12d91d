// verdict: reject
// The kernel builds a local dynptr only over a map value: a stack buffer as bpf_dynptr_from_mem's data
// is refused ("Unsupported reg type fp for bpf_dynptr_from_mem data").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int dynptr_from_mem_stack(struct xdp_md *xdp) {
  __u64 buf[2] = {1, 2};
  __u64 out = 0;
  struct bpf_dynptr dp;
  bpf_dynptr_from_mem(buf, sizeof buf, 0, &dp);
  bpf_dynptr_read(&out, sizeof out, &dp, 0, 0);
  return out & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
