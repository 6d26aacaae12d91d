// verdict: reject
// bpf_user_ringbuf_drain takes only a BPF_MAP_TYPE_USER_RINGBUF (not a kernel-to-user RINGBUF).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

static long count(struct bpf_dynptr *dynptr, __u64 *total) {
  *total += 1;
  return 0;
}

SEC("xdp")
int user_ringbuf_drain_ringbuf(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&events, count, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
