// verdict: reject
// A stack slot is not a dynptr until a helper initialises it: bpf_dynptr_read from one is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

SEC("xdp")
int user_ringbuf_stack_dynptr(struct xdp_md *xdp) {
  struct bpf_dynptr dynptr;
  __u64 word = 0;
  __builtin_memset(&dynptr, 0, sizeof dynptr);
  bpf_dynptr_read(&word, sizeof word, &dynptr, 0, 0);
  return word & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
