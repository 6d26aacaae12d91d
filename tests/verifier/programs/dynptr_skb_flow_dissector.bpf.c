// verdict: reject
// A flow dissector has an __sk_buff context, but the kernel does not register the skb kfunc set for it.
#include "dynptr_packet.h"

SEC("flow_dissector")
int dynptr_skb_flow_dissector(struct __sk_buff *skb) {
  struct bpf_dynptr dp;
  return bpf_dynptr_from_skb(skb, 0, &dp) ? BPF_DROP : BPF_OK;
}

char LICENSE[] SEC("license") = "GPL";
