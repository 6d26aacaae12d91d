// verdict: reject
// The dynptr is the kernel's struct: storing into it is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long clobber(struct bpf_dynptr *dynptr, __u64 *total) {
  *(volatile __u64 *)dynptr = *total;
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_store(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, clobber, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
