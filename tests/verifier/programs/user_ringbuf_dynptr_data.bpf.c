// verdict: accept
// bpf_dynptr_data on the drain callback's dynptr: memory of the constant size asked for, or NULL;
// after the NULL check it is read and written.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

static long first_word(struct bpf_dynptr *dynptr, __u64 *total) {
  __u64 *word = bpf_dynptr_data(dynptr, 0, sizeof *word);
  if (!word) return 1;
  *total += *word;
  *word = 0;
  return 0;
}

SEC("xdp")
int user_ringbuf_dynptr_data(struct xdp_md *xdp) {
  __u64 total = 0;
  bpf_user_ringbuf_drain(&samples, first_word, &total, BPF_RB_NO_WAKEUP);
  return total & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
