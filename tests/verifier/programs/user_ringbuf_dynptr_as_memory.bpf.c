// verdict: reject
// The dynptr is not memory: passing it where a helper wants bytes (a map key) is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u64);
  __type(value, __u64);
} seen SEC(".maps");

static long lookup(struct bpf_dynptr *dynptr, __u64 *total) {
  __u64 *v = bpf_map_lookup_elem(&seen, dynptr);
  if (v) *total += *v;
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_as_memory(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, lookup, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
