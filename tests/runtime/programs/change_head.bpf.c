// bpf_skb_change_head from tc: one call whose head_room and flags come from the packet's length (for a
// few lengths one byte past BPF_SKB_MAX_LEN), then a grid of calls (0, small rooms, flags other than 0, one byte past
// BPF_SKB_MAX_LEN, lengths that wrap the u32 or only fit in 64 bits). Each answer, and skb->len after
// it, is summed into globals. Then probes of where the network header now is (bpf_skb_change_head
// leaves it in place while data and the MAC header move): bpf_skb_adjust_room in MAC and NET mode,
// shrinking one byte below the IP header, bpf_skb_change_tail one byte below and at the network
// offset's minimum. Writes through fresh packet pointers and returns the first call's answer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ABS 0 /* head_room = val */
#define FIT 1 /* head_room = BPF_SKB_MAX_LEN - skb->len + val */
#define MAX_LEN 16064 /* BPF_SKB_MAX_LEN on 4 KiB pages */

struct call {
  __u32 kind;
  __s32 val;
  __u64 flags;
};

#define NCALLS 14
static const struct call grid[NCALLS] = {
    {ABS, 0, 0},
    {ABS, 1, 0},
    {ABS, 14, 0},
    {ABS, 100, 0},
    {ABS, 8, 1},
    {ABS, 8, 1ULL << 40},
    {FIT, 1, 0},
    {FIT, 1000, 0},
    {ABS, -1, 0}, /* 0xffffffff */
    {ABS, -16, 0},
    {ABS, MAX_LEN, 0},
    {ABS, 40, 2},
    {ABS, 6, 0},
    {ABS, 0, 1ULL << 63},
};

__s64 answers[NCALLS];
__u64 lens[NCALLS];
#define NPROBES 6
__s64 probe_answers[NPROBES];
__u64 probe_lens[NPROBES];
__s64 first_answers, first_lens, wide_answers, final_lens;
__u64 wide_room = (1ULL << 32) + 8; /* a global: the helper's u32 argument takes its low half */

SEC("tc")
int change_head(struct __sk_buff *skb) {
  const __u32 start_len = skb->len;
  __u64 room = start_len % 37;
  if (start_len % 64 == 3) room = MAX_LEN - start_len + 1;
  if (start_len % 5 == 0) room += 1ULL << 32;
  const __u64 first_flags = start_len % 11 == 0 ? 1ULL << (start_len % 64) : 0;
  long first = bpf_skb_change_head(skb, room, first_flags);
  first_answers += first;
  first_lens += skb->len;

#pragma unroll
  for (int i = 0; i < NCALLS; i++) {
    __u64 r = (__u32)grid[i].val;
    if (grid[i].kind == FIT) r = MAX_LEN - skb->len + grid[i].val;
    answers[i] += bpf_skb_change_head(skb, r, grid[i].flags);
    lens[i] += skb->len;
  }
  wide_answers += bpf_skb_change_head(skb, wide_room, 0);

  const __u32 pushed = skb->len - start_len;
  long p[NPROBES];
  p[0] = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC, 0);
  probe_lens[0] += skb->len;
  p[1] = bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_NET, 0);
  probe_lens[1] += skb->len;
  p[2] = bpf_skb_adjust_room(skb, -28, BPF_ADJ_ROOM_MAC, 0);
  probe_lens[2] += skb->len;
  /* one byte more than leaves the 20-byte IPv4 header after the network header */
  p[3] = bpf_skb_adjust_room(skb, -(__s32)(skb->len - pushed - 14 - 20 + 1), BPF_ADJ_ROOM_MAC, 0);
  probe_lens[3] += skb->len;
  p[4] = bpf_skb_change_tail(skb, pushed + 13, 0);
  probe_lens[4] += skb->len;
  p[5] = bpf_skb_change_tail(skb, pushed + 14 + (start_len - 14) / 2, 0);
  probe_lens[5] += skb->len;
#pragma unroll
  for (int i = 0; i < NPROBES; i++) probe_answers[i] += p[i];
  final_lens += skb->len;

  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  if (data + 40 <= data_end) {
    __u8 *q = data;
    q[0] ^= 0x3c;
    q[39] = (__u8)skb->len;
  }
  return (int)first;
}

char _license[] SEC("license") = "GPL";
