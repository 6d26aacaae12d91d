// verdict: reject
// No arithmetic on the dynptr pointer: bpf_dynptr_data(dynptr - 1, ...) is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long shifted(struct bpf_dynptr *dynptr, __u64 *total) {
  __u64 *word = bpf_dynptr_data(dynptr - 1, 0, sizeof *word);
  if (word) *total += *word;
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_offset(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, shifted, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
