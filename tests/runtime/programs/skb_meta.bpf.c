// The __sk_buff helpers that change the skb's metadata, from tc: the flow hash (bpf_get_hash_recalc,
// bpf_set_hash_invalid, bpf_set_hash), the checksum state (bpf_csum_update, bpf_csum_level, and
// bpf_skb_adjust_room's reset of it), bpf_skb_change_type, bpf_skb_set_tstamp, bpf_skb_ecn_set_ce,
// bpf_redirect_peer / bpf_redirect_neigh, bpf_check_mtu, then LD_ABS from the network header after
// bpf_skb_change_head and bpf_skb_change_proto. Arguments come from the packet's length so both sides
// see varied calls; each answer (or a property of it, for the hash, whose value is the kernel's
// boot-random one) is summed into a global slot.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

#define SKF_NET_OFF (-0x100000)
#define NSLOTS 64
__s64 slots[NSLOTS];
__u64 wide_type = 0x100000001ULL;

#define NOTE(i, v) (slots[(i)] += (__s64)(v))

static __always_inline void hashes(struct __sk_buff *skb, __u32 len) {
  const __u32 h = bpf_get_hash_recalc(skb);
  NOTE(0, h != 0);
  NOTE(1, h == skb->hash);
  NOTE(2, bpf_get_hash_recalc(skb) == h);
  bpf_set_hash_invalid(skb); /* void in libbpf's declaration */
  NOTE(4, skb->hash);
  const __u32 mine = len * 2654435761u;
  NOTE(5, bpf_set_hash(skb, mine));
  NOTE(6, skb->hash);
  NOTE(7, bpf_get_hash_recalc(skb));
  if (len & 1) {  /* a store that invalidates the hash: recomputed, a flow hash again */
    __u8 b = 0x5a;
    NOTE(8, bpf_skb_store_bytes(skb, 0, &b, 1, BPF_F_INVALIDATE_HASH));
    NOTE(9, skb->hash);
    NOTE(10, bpf_get_hash_recalc(skb) != 0);
  }
}

static __always_inline void checksums(struct __sk_buff *skb, __u32 len) {
  NOTE(11, bpf_csum_update(skb, len));
  NOTE(12, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
  for (int i = 0; i < 5; i++)
    if (i < (int)(len % 6)) NOTE(13, bpf_csum_level(skb, BPF_CSUM_LEVEL_INC));
  NOTE(14, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
  if (len & 2) NOTE(15, bpf_csum_level(skb, BPF_CSUM_LEVEL_DEC));
  NOTE(16, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
  if (len % 3 == 0) NOTE(17, bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET));
  NOTE(18, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
  NOTE(19, bpf_csum_level(skb, 4));
  NOTE(20, bpf_csum_level(skb, (1ULL << 32) | BPF_CSUM_LEVEL_INC));
  if (len % 5 == 0) NOTE(21, bpf_csum_level(skb, BPF_CSUM_LEVEL_INC));
  /* bpf_skb_adjust_room resets CHECKSUM_UNNECESSARY unless told not to */
  const __u64 keep = (len & 4) ? BPF_F_ADJ_ROOM_NO_CSUM_RESET : 0;
  NOTE(22, bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC, keep));
  NOTE(23, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
  NOTE(24, bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_NO_CSUM_RESET));
  NOTE(25, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
}

static __always_inline void types_and_stamps(struct __sk_buff *skb, __u32 len) {
  NOTE(26, skb->pkt_type);
  NOTE(27, bpf_skb_change_type(skb, len % 5));
  NOTE(28, skb->pkt_type);
  NOTE(29, bpf_skb_change_type(skb, 0x80000001u));
  NOTE(30, bpf_skb_set_tstamp(skb, len * 1000, len % 4));
  NOTE(31, skb->tstamp);
  NOTE(32, skb->tstamp_type);
  NOTE(33, bpf_skb_set_tstamp(skb, 0, 1 + len % 2));
  NOTE(34, bpf_skb_set_tstamp(skb, 0, 0));
  NOTE(35, skb->tstamp_type);
  NOTE(36, skb->tstamp);
  /* the type is a u32: the helper takes the low half (1) of the 64-bit register */
  NOTE(37, ((long (*)(struct __sk_buff *, __u64, __u64))bpf_skb_set_tstamp)(skb, 7, wide_type));
  NOTE(38, skb->tstamp_type);
  /* the kernel reads the protocol through a VLAN tag; bpfvm stops there "not supported yet" */
  if (skb->protocol != bpf_htons(0x8100) && skb->protocol != bpf_htons(0x88a8)) {
    NOTE(39, bpf_skb_ecn_set_ce(skb));
    NOTE(40, bpf_skb_ecn_set_ce(skb));
  }
}

/* bpf_check_mtu on the context's device and on ifindex 1 around the edge (the packet's length plus
   len_diff against MTU + 14), a missing device, BPF_MTU_CHK_SEGS: slots s..s+7 */
static __always_inline void mtu_probes(void *ctx, __u32 len, int s) {
  __u32 mtu = 0;
  NOTE(s, bpf_check_mtu(ctx, 0, &mtu, 0, 0));
  NOTE(s + 1, mtu);
  mtu = 0;
  NOTE(s + 2, bpf_check_mtu(ctx, 1, &mtu, 65550 - (__s32)len - 2 + (__s32)(len % 5), 0));
  mtu = len * 40;
  NOTE(s + 3, bpf_check_mtu(ctx, 0, &mtu, -(__s32)(len & 0xff), 0));
  NOTE(s + 4, mtu);
  mtu = 0;
  NOTE(s + 5, bpf_check_mtu(ctx, 0x7ffffff0, &mtu, 0, 0));
  NOTE(s + 6, bpf_check_mtu(ctx, 0, &mtu, 0, BPF_MTU_CHK_SEGS));
  NOTE(s + 7, mtu);
}

static __always_inline void redirects_and_mtu(struct __sk_buff *skb, __u32 len) {
  NOTE(41, bpf_redirect_peer(len, len & 8));
  struct bpf_redir_neigh nh = {};
  nh.nh_family = 2;
  NOTE(42, bpf_redirect_neigh(len, (len & 2) ? &nh : 0, (len & 2) ? sizeof(nh) : 0, (len & 16) ? 1 : 0));
  NOTE(43, bpf_redirect_neigh(1, &nh, sizeof(nh) - 4, 0));
  mtu_probes(skb, len, 44);
  __u32 mtu = 5;
  NOTE(52, bpf_check_mtu(skb, 0, &mtu, 0, BPF_MTU_CHK_SEGS));
  NOTE(53, bpf_check_mtu(skb, 0, &mtu, 0, 2));
  mtu = 0xfffffff0u;
  NOTE(54, bpf_check_mtu(skb, 1, &mtu, 100, 0));
}

SEC("tc")
int skb_meta(struct __sk_buff *skb) {
  const __u32 len = skb->len;
  hashes(skb, len);
  checksums(skb, len);
  types_and_stamps(skb, len);
  redirects_and_mtu(skb, len);
  /* LD_ABS from the network header, which bpf_skb_change_head leaves where it was */
  if (len & 32) NOTE(55, bpf_skb_change_head(skb, 6, 0));
  NOTE(56, skb->len);
  NOTE(57, bpf_skb_change_proto(skb, (len & 1) ? bpf_htons(0x86dd) : bpf_htons(0x0800), len % 7 == 0));
  NOTE(58, skb->protocol);
  NOTE(59, skb->len);
  NOTE(60, skb->hash == 0); /* cleared by a successful change; else a flow hash: its value is the kernel's own */
  NOTE(61, load_byte(skb, SKF_NET_OFF + 9));
  NOTE(62, load_word(skb, SKF_NET_OFF + 12));  /* may fail: the program ends with 0 */
  return len & 7;
}

/* Grows the packet to around data_in + 4096 bytes (the test's data_out buffer) or to BPF_SKB_MAX_LEN,
   with a marker in the last byte: a longer packet is the kernel's ENOSPC. */
SEC("tc")
int grow_out(struct __sk_buff *skb) {
  const __u32 len = skb->len;
  __u32 target = len + 4096 - 2 + len % 5;
  if (len % 3 == 0) target = 16064;
  long r = bpf_skb_change_tail(skb, target, 0);
  __u8 marker = 0xa5;
  if (r == 0) r = bpf_skb_store_bytes(skb, skb->len - 1, &marker, 1, 0);
  return r;
}

/* bpf_check_mtu from XDP: the receiving device (the loopback) or ifindex 1, a missing device, flags */
SEC("xdp")
int xdp_mtu(struct xdp_md *ctx) {
  const __u32 len = ctx->data_end - ctx->data;
  mtu_probes(ctx, len, 0);
  return XDP_PASS;
}

/* bpf_check_mtu on the context's device (ifindex 0: the one ctx_in names) and on ifindex 2..9 of the
 * host's network namespace, whichever exist (-ENODEV for the rest): each device's MTU, then its edge
 * through len_diff and through *mtu_len (the packet's length picks which side of it). */
static __always_inline void device_mtu_probes(void *ctx, __u32 len) {
#pragma unroll
  for (int i = 0; i < 9; i++) {
    const __u32 ifindex = i == 0 ? 0 : 1 + i;
    __u32 mtu = 0;
    NOTE(4 * i, bpf_check_mtu(ctx, ifindex, &mtu, 0, 0));
    NOTE(4 * i + 1, mtu);
    __u32 probe = 0;
    const __s32 diff = (__s32)(mtu + 14) - (__s32)len + (__s32)(len % 3) - 1;
    NOTE(4 * i + 2, bpf_check_mtu(ctx, ifindex, &probe, diff, 0) * 3 + (probe == mtu));
    probe = mtu + (len % 3) - 1;
    NOTE(4 * i + 3, bpf_check_mtu(ctx, ifindex, &probe, 0, 0) * 3 + (probe == mtu));
  }
}

SEC("tc")
int tc_mtu_dev(struct __sk_buff *skb) {
  device_mtu_probes(skb, skb->len);
  return TC_ACT_OK;
}

SEC("xdp")
int xdp_mtu_dev(struct xdp_md *ctx) {
  device_mtu_probes(ctx, ctx->data_end - ctx->data);
  return XDP_PASS;
}

/* bpf_skb_ecn_set_ce from cgroup_skb, whose data starts at the network header */
SEC("cgroup_skb/egress")
int cgroup_ecn(struct __sk_buff *skb) {
  if (skb->protocol == bpf_htons(0x8100) || skb->protocol == bpf_htons(0x88a8)) return 1;
  NOTE(0, bpf_skb_ecn_set_ce(skb));
  NOTE(1, bpf_skb_ecn_set_ce(skb));
  __u32 w = 0;
  NOTE(2, bpf_skb_load_bytes(skb, 0, &w, 4));
  NOTE(3, w);
  return skb->len & 1;
}

/* bpf_skb_ecn_set_ce on every packet, VLAN frames too: the kernel reads the protocol through the
 * in-packet tags but marks the header at the network header (right after the Ethernet header) */
static __always_inline void ecn_any(struct __sk_buff *skb) {
  NOTE(0, bpf_skb_ecn_set_ce(skb));
  NOTE(1, bpf_skb_ecn_set_ce(skb));
  NOTE(2, skb->protocol);
}

SEC("tc")
int tc_ecn_vlan(struct __sk_buff *skb) {
  ecn_any(skb);
  return TC_ACT_OK;
}

SEC("cgroup_skb/egress")
int cgroup_ecn_vlan(struct __sk_buff *skb) {
  ecn_any(skb);
  return 1;
}

char _license[] SEC("license") = "GPL";
