// A tc program whose only engine-dependent output is its context: it stamps bpf_ktime_get_ns() into
// skb->cb[0..1] and returns TC_ACT_OK without touching the packet. `bpfvm bench` must see the
// difference in the context the run hands back (the kernel's BPF_PROG_TEST_RUN copies cb[] out).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int cb_stamp(struct __sk_buff *skb) {
  __u64 now = bpf_ktime_get_ns();
  skb->cb[0] = (__u32)now;
  skb->cb[1] = (__u32)(now >> 32);
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
