// verdict: accept
// After bpf_ringbuf_submit every copy of the record pointer is invalid; a privileged loader gets it back
// as an unknown scalar (the kernel's mark_reg_invalid), which may be read as a number.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int ringbuf_submit_read_scalar(struct xdp_md *xdp) {
  __u64 *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) return XDP_PASS;
  *rec = 1;
  bpf_ringbuf_submit(rec, 0);
  return ((unsigned long)rec >> 4) & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
