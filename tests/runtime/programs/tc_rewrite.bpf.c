// tc classifier in the style of samples/bpf tcbpf1_kern.c: rewrite the IPv4 destination and UDP/TCP
// destination port with bpf_skb_store_bytes + bpf_l3_csum_replace/bpf_l4_csum_replace (pseudo-header
// aware), read skb fields, and answer TC_ACT_OK / TC_ACT_SHOT / bpf_redirect().
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define IP_TOS_OFF (ETH_HLEN + offsetof(struct iphdr, tos))
#define L4_OFF (ETH_HLEN + sizeof(struct iphdr))

struct skb_seen {
  __u32 len, protocol, pkt_type, ifindex, data_len, mark, priority, queue_mapping;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct skb_seen);
} seen SEC(".maps");

static __always_inline void set_tos(struct __sk_buff *skb, __u8 new_tos) {
  __u8 old_tos = 0;
  if (bpf_skb_load_bytes(skb, IP_TOS_OFF, &old_tos, 1) < 0) return;
  bpf_l3_csum_replace(skb, IP_CSUM_OFF, bpf_htons(old_tos), bpf_htons(new_tos), 2);
  bpf_skb_store_bytes(skb, IP_TOS_OFF, &new_tos, sizeof(new_tos), 0);
}

static __always_inline void set_dst(struct __sk_buff *skb, __u32 l4_csum_off, __be32 new_ip) {
  __be32 old_ip = 0;
  if (bpf_skb_load_bytes(skb, IP_DST_OFF, &old_ip, 4) < 0) return;
  if (l4_csum_off) bpf_l4_csum_replace(skb, l4_csum_off, old_ip, new_ip, BPF_F_PSEUDO_HDR | sizeof(new_ip));
  bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_ip, new_ip, sizeof(new_ip));
  bpf_skb_store_bytes(skb, IP_DST_OFF, &new_ip, sizeof(new_ip), 0);
}

static __always_inline void set_port(struct __sk_buff *skb, __u32 port_off, __u32 csum_off, __be16 new_port) {
  __be16 old_port = 0;
  if (bpf_skb_load_bytes(skb, port_off, &old_port, 2) < 0) return;
  bpf_l4_csum_replace(skb, csum_off, old_port, new_port, sizeof(new_port));
  bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0);
}

SEC("tc")
int tc_rewrite(struct __sk_buff *skb) {
  __u32 key = 0;
  struct skb_seen *s = bpf_map_lookup_elem(&seen, &key);
  if (s) {
    s->len = skb->len;
    s->protocol = skb->protocol;
    s->pkt_type = skb->pkt_type;
    s->ifindex = skb->ifindex;
    s->data_len = skb->data_end - skb->data;
    s->mark = skb->mark;
    s->priority = skb->priority;
    s->queue_mapping = skb->queue_mapping;
  }
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return TC_ACT_SHOT;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  struct iphdr *iph = (void *)(eth + 1);
  if ((void *)(iph + 1) > data_end) return TC_ACT_SHOT;
  if (iph->ihl != 5) return TC_ACT_UNSPEC;
  __u8 proto = iph->protocol;
  __be32 daddr = iph->daddr;
  set_tos(skb, 0x28);
  if (proto == IPPROTO_UDP) {
    set_dst(skb, L4_OFF + offsetof(struct udphdr, check), daddr ^ bpf_htonl(0x0a000001));
    set_port(skb, L4_OFF + offsetof(struct udphdr, dest), L4_OFF + offsetof(struct udphdr, check),
             bpf_htons(5353));
  } else if (proto == IPPROTO_TCP) {
    set_dst(skb, L4_OFF + offsetof(struct tcphdr, check), daddr ^ bpf_htonl(0x0a000002));
    set_port(skb, L4_OFF + offsetof(struct tcphdr, dest), L4_OFF + offsetof(struct tcphdr, check),
             bpf_htons(8080));
  } else {
    set_dst(skb, 0, daddr + 1);
  }
  // Direct packet access again after the helpers (they invalidate packet pointers).
  data = (void *)(long)skb->data;
  data_end = (void *)(long)skb->data_end;
  iph = data + ETH_HLEN;
  if ((void *)(iph + 1) > data_end) return TC_ACT_SHOT;
  if (iph->ttl & 1) return bpf_redirect(iph->ttl, 0);
  if (iph->ttl & 2) return TC_ACT_SHOT;
  return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
