// Example 7: a program the verifier must refuse. The bounds check covers 12 bytes of the Ethernet
// header, but h_proto is bytes 12-13: `bpfvm verify` names the load, the missing bytes and the line.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_off_by_two(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)eth + 12 > data_end) return XDP_DROP;  // should be sizeof(*eth) = 14
  return eth->h_proto == __builtin_bswap16(ETH_P_IP) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
