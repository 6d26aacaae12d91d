// The tunnel metadata helpers from tc: bpf_skb_get_tunnel_key / _opt and bpf_skb_set_tunnel_opt
// before any key (refused), bpf_skb_set_tunnel_key with the family, flags, sizes (the struct's and
// older layouts') and fields taken from the packet's length, including refused ones (an unknown flag,
// an IPv4 label, tunnel_ext), then the key read back in either family, with and without
// BPF_F_TUNINFO_FLAGS, in every size, and options set and read back. Answers and every word read
// back are summed into global slots.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NSLOTS 40
__s64 slots[NSLOTS];
#define NOTE(i, v) (slots[(i)] += (__s64)(v))

static __always_inline void note_key(int i, const struct bpf_tunnel_key *k) {
  const __u32 *w = (const __u32 *)k;
#pragma unroll
  for (int j = 0; j < 11; j++) NOTE(i, (__u64)w[j] * (j + 1));
}

static __always_inline long set_key(struct __sk_buff *skb, struct bpf_tunnel_key *k, __u32 len, __u64 flags) {
  switch (len % 6) {
    case 0: return bpf_skb_set_tunnel_key(skb, k, 28, flags);
    case 1: return bpf_skb_set_tunnel_key(skb, k, 24, flags);
    case 2: return bpf_skb_set_tunnel_key(skb, k, 22, flags);
    case 3: return bpf_skb_set_tunnel_key(skb, k, 8, flags);
    case 4: return bpf_skb_set_tunnel_key(skb, k, 12, flags); /* no such layout */
    default: return bpf_skb_set_tunnel_key(skb, k, sizeof(*k), flags);
  }
}

SEC("tc")
int tunnel(struct __sk_buff *skb) {
  const __u32 len = skb->len;
  struct bpf_tunnel_key k = {}, g;
  __u8 opt[16], got[16];
#pragma unroll
  for (int i = 0; i < 16; i++) opt[i] = (__u8)(len + i * 37);

  NOTE(0, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), 0));
  note_key(1, &g);
  NOTE(2, bpf_skb_get_tunnel_opt(skb, got, sizeof(got)));
  NOTE(3, bpf_skb_set_tunnel_opt(skb, opt, 8));

  const int v6 = len & 1;
  k.tunnel_id = len * 2654435761u;
  k.tunnel_tos = (__u8)len;
  k.tunnel_ttl = 64 + (len & 7);
  if (v6) {
    k.remote_ipv6[0] = 0x20010db8;
    k.remote_ipv6[3] = len;
    k.local_ipv6[0] = 0xfe800000;
    k.local_ipv6[3] = len * 3;
    k.tunnel_label = len * 977;  /* wider than the 20-bit flow label */
  } else {
    k.remote_ipv4 = 0x0a000001 + len;
    k.local_ipv4 = 0xc0a80001;
    if (len % 7 == 0) k.tunnel_label = 5;  /* refused for IPv4 */
  }
  if (len % 11 == 0) k.tunnel_ext = 1;  /* refused */
  __u64 flags = (v6 ? BPF_F_TUNINFO_IPV6 : 0) | ((len >> 1) & 0x1e);
  if (len % 13 == 0) flags |= 1ULL << 5;
  NOTE(4, set_key(skb, &k, len, flags));

  const __u64 fam = v6 ? BPF_F_TUNINFO_IPV6 : 0;
  NOTE(5, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), fam));
  note_key(6, &g);
  NOTE(7, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), fam | BPF_F_TUNINFO_FLAGS));
  note_key(8, &g);
  NOTE(9, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), fam ^ BPF_F_TUNINFO_IPV6));
  note_key(10, &g);
  NOTE(11, bpf_skb_get_tunnel_key(skb, &g, 28, fam));
  note_key(12, &g);
  __builtin_memset(&g, 0, sizeof(g));
  NOTE(13, bpf_skb_get_tunnel_key(skb, &g, 8, fam));
  note_key(14, &g);
  NOTE(15, bpf_skb_get_tunnel_key(skb, &g, 12, fam));
  NOTE(16, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), fam | (1ULL << 7)));

  switch (len % 4) {
    case 0: NOTE(17, bpf_skb_set_tunnel_opt(skb, opt, 8)); break;
    case 1: NOTE(17, bpf_skb_set_tunnel_opt(skb, opt, 16)); break;
    case 2: NOTE(17, bpf_skb_set_tunnel_opt(skb, opt, 6)); break;
    default: NOTE(17, bpf_skb_set_tunnel_opt(skb, opt, 4)); break;
  }
  NOTE(18, bpf_skb_get_tunnel_opt(skb, got, sizeof(got)));
#pragma unroll
  for (int i = 0; i < 16; i++) NOTE(19, got[i] * (i + 1));
  NOTE(20, bpf_skb_get_tunnel_opt(skb, got, 4));
  NOTE(21, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), fam | BPF_F_TUNINFO_FLAGS));
  note_key(22, &g);
  return 0;
}

char _license[] SEC("license") = "GPL";
