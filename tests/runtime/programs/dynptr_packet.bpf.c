// Packet dynptrs (net/core/filter.c's bpf_dynptr_from_skb / bpf_dynptr_from_xdp) with offsets, lengths
// and flags taken from the packet: flags != 0 (-EINVAL, a null dynptr), size, is_rdonly (tc and XDP
// writable, a socket filter's read-only), bpf_dynptr_read in and past range, bpf_dynptr_write (skb
// flags 0 / BPF_F_INVALIDATE_HASH / a bad one; a read-only dynptr's -EINVAL), bpf_dynptr_data (NULL),
// bpf_dynptr_slice without and with a buffer, a clone adjusted and read, and a new slice after a helper
// moved the packet (bpf_skb_pull_data, bpf_xdp_adjust_head).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "../../verifier/programs/dynptr_packet.h"

// Per program: [0] tc, [1] socket filter, [2] xdp.
__s64 flag_errs[3], read_errs[3], write_errs[3], adjust_errs[3];
__u64 sizes[3], nulls[3], rdonly[3], read_sum[3], slice_sum[3], buffer_sum[3], clone_sum[3], data_hits[3];
__u32 slice_misses[3], renewed_sum[3];

static __always_inline int exercise(struct bpf_dynptr *dp, struct bpf_dynptr *bad, int flag_err, int i) {
  struct bpf_dynptr copy;
  __u8 head[8] = {}, buf[8] = {}, tmp[4] = {};
  flag_errs[i] += flag_err;
  nulls[i] += bpf_dynptr_is_null(bad) + bpf_dynptr_is_rdonly(bad);
  sizes[i] += bpf_dynptr_size(dp);
  rdonly[i] += bpf_dynptr_is_rdonly(dp);
  if (bpf_dynptr_read(head, sizeof head, dp, 0, 0)) return 1;
  int err = bpf_dynptr_read(buf, sizeof buf, dp, head[0] & 127, 0);
  read_errs[i] += err;
  read_sum[i] += buf[0] + buf[7];  // a failed skb read zeroes buf, others leave it
  __u64 flags = (head[1] & 3) == 3 ? 0x100 : (head[1] & 2) ? BPF_F_INVALIDATE_HASH : 0;
  __u8 swapped[2] = {head[3], head[2]};
  write_errs[i] += bpf_dynptr_write(dp, head[4] & 63, swapped, sizeof swapped, i == 2 ? (head[1] & 1) : flags);
  data_hits[i] += bpf_dynptr_data(dp, 0, 1) != 0;
  const __u8 *s = bpf_dynptr_slice(dp, head[5] & 127, NULL, 4);
  if (s) slice_sum[i] += s[0] + s[3];
  else slice_misses[i]++;
  const __u8 *b = bpf_dynptr_slice(dp, head[6] & 63, tmp, sizeof tmp);
  if (b) buffer_sum[i] += b[1];
  if (bpf_dynptr_clone(dp, &copy) == 0) {
    err = bpf_dynptr_adjust(&copy, head[7] & 15, head[7] >> 2);
    adjust_errs[i] += err;
    if (!err && bpf_dynptr_read(tmp, 2, &copy, 0, 0) == 0) clone_sum[i] += tmp[0] + bpf_dynptr_size(&copy);
  }
  return 0;
}

SEC("tc")
int dynptr_skb_tc(struct __sk_buff *skb) {
  struct bpf_dynptr dp, bad;
  int flag_err = bpf_dynptr_from_skb(skb, skb->len & 1, &bad);
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return TC_ACT_SHOT;
  if (exercise(&dp, &bad, flag_err, 0)) return TC_ACT_UNSPEC;
  bpf_skb_pull_data(skb, 0);
  const __u8 *s = bpf_dynptr_slice(&dp, 1, NULL, 2);
  if (s) renewed_sum[0] += s[1];
  return s && s[0] & 1 ? TC_ACT_OK : TC_ACT_PIPE;
}

SEC("socket")
int dynptr_skb_socket(struct __sk_buff *skb) {
  struct bpf_dynptr dp, bad;
  int flag_err = bpf_dynptr_from_skb(skb, (skb->len & 1) << 3, &bad);
  if (bpf_dynptr_from_skb(skb, 0, &dp)) return 0;
  if (exercise(&dp, &bad, flag_err, 1)) return 1;
  return bpf_dynptr_size(&dp) & 0xff;
}

SEC("xdp")
int dynptr_xdp(struct xdp_md *xdp) {
  struct bpf_dynptr dp, bad;
  int flag_err = bpf_dynptr_from_xdp(xdp, (xdp->data_end - xdp->data) & 2, &bad);
  if (bpf_dynptr_from_xdp(xdp, 0, &dp)) return XDP_ABORTED;
  if (exercise(&dp, &bad, flag_err, 2)) return XDP_DROP;
  if (bpf_xdp_adjust_head(xdp, 4)) return XDP_TX;
  const __u8 *s = bpf_dynptr_slice(&dp, 0, NULL, 2);
  if (s) renewed_sum[2] += s[0];
  return s && s[1] & 1 ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
