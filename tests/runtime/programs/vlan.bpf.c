// bpf_skb_vlan_push / bpf_skb_vlan_pop from tc: pushes and pops in an order and with protocols and
// TCIs taken from the packet's length (protocols other than 802.1Q/802.1ad become 802.1Q), so the
// outside tag, the tags written into the packet and the ones popped back out (also from the random
// 0x8100 frames the test sends) are all exercised. After each call the answer, __sk_buff's vlan_*
// fields, skb->protocol and skb->len are summed into global slots; LD_ABS then reads from the network
// header, which tags written into the packet move along.
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

#define SKF_NET_OFF (-0x100000)
#define NSTEPS 6
__s64 answers[NSTEPS], present[NSTEPS], tcis[NSTEPS], protos[NSTEPS], skb_protos[NSTEPS], lens[NSTEPS];
__s64 net_words;

static const __u16 vlan_protos[4] = {0x8100, 0x88a8, 0x0800, 0x9100};

SEC("tc")
int vlan(struct __sk_buff *skb) {
  const __u32 len = skb->len;
#pragma unroll
  for (int i = 0; i < NSTEPS; i++) {
    long r;
    if ((len >> i) & 1)
      r = bpf_skb_vlan_push(skb, bpf_htons(vlan_protos[(len + i) & 3]), (__u16)(len * 7 + i * 0x1111));
    else
      r = bpf_skb_vlan_pop(skb);
    answers[i] += r;
    present[i] += skb->vlan_present;
    tcis[i] += skb->vlan_tci;
    protos[i] += skb->vlan_proto;
    skb_protos[i] += skb->protocol;
    lens[i] += skb->len;
  }
  net_words += load_half(skb, SKF_NET_OFF + 2);  /* may fail: the program then returns 0 */
  return skb->len & 0xff;
}

char _license[] SEC("license") = "GPL";
