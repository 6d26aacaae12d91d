// verdict: accept
// lwt_in is among the types the kernel registers the skb kfunc set for (its dynptr is read-only).
#include "dynptr_packet.h"

SEC("lwt_in")
int dynptr_skb_lwt_in(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return BPF_DROP;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 1);
  return s && s[0] == 0x45 ? BPF_OK : BPF_DROP;
}

char LICENSE[] SEC("license") = "GPL";
