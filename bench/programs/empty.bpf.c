// The baseline: an XDP program that does no work (r0 = XDP_PASS; exit). Its time per run is the
// harness overhead subtracted from every other program's time, engine by engine.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int xdp_empty(struct xdp_md *ctx) { return XDP_PASS; }

char _license[] SEC("license") = "GPL";
