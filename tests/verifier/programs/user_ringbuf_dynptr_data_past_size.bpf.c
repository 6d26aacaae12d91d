// verdict: reject
// bpf_dynptr_data's memory is as large as the constant size asked for: reading past it is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long second_word(struct bpf_dynptr *dynptr, __u64 *total) {
  __u64 *word = bpf_dynptr_data(dynptr, 0, sizeof *word);
  if (!word) return 1;
  *total += word[1];
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_data_past_size(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, second_word, &total, 0);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
