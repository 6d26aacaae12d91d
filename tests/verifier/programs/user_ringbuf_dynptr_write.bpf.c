// verdict: accept
// bpf_dynptr_write takes the drain callback's dynptr (it writes the sample, not the struct).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long stamp(struct bpf_dynptr *dynptr, __u64 *total) {
  __u64 mark = 0x5a;
  *total = bpf_dynptr_write(dynptr, 0, &mark, sizeof mark, 0);
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_write(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, stamp, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
