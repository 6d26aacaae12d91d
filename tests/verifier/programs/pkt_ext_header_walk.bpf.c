// verdict: accept
// An IPv6 extension-header walk: the offset of the next header grows by (hdrlen + 1) * 8 per trip, up
// to 40 trips, each header checked against data_end before it is read. The offset can pass 64 KiB
// (54 + 40 * 2048): the kernel keeps no packet range for a pointer whose variable part may exceed
// MAX_PACKET_OFF and refuses the read ("R6 offset is outside of the packet"); bpfvm keeps the range
// for variable parts up to BPF_MAX_VAR_OFF (2^29), where data + offset + size cannot wrap, so the
// checked read is in the packet (verifier/README.md, known differences).
#include <linux/bpf.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int ext_header_walk(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 54 > end) return XDP_DROP;
  struct ipv6hdr *ip6 = data + 14;
  __u8 nexthdr = ip6->nexthdr;
  __u32 off = 54;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 40; i++) {
    if (nexthdr != 0 && nexthdr != 43 && nexthdr != 60 && nexthdr != 44) break;
    struct ipv6_opt_hdr *h = data + off;
    if ((void *)(h + 1) > end) return XDP_DROP;
    nexthdr = h->nexthdr;
    off += (h->hdrlen + 1) * 8;
  }
  return nexthdr;
}
char _license[] SEC("license") = "GPL";
