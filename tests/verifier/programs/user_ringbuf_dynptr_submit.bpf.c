// verdict: reject
// bpf_ringbuf_submit_dynptr releases (mutates) its dynptr: the drain callback's const one is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long release(struct bpf_dynptr *dynptr, __u64 *total) {
  bpf_ringbuf_submit_dynptr(dynptr, 0);
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_submit(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, release, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
