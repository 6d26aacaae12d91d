// verdict: reject
// The dynptr is the kernel's struct: reading its bytes as a number is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long peek(struct bpf_dynptr *dynptr, __u64 *total) {
  *total += *(volatile __u64 *)dynptr;
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_load(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, peek, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
