// verdict: reject
// The drain callback returns 0 (continue) or 1 (stop); 2 is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long two(struct bpf_dynptr *dynptr, __u64 *total) {
  *total += 1;
  return 2;
}

SEC("xdp")
int user_ringbuf_callback_return_2(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, two, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
