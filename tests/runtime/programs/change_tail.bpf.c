// bpf_skb_change_tail from tc: one call whose new length and flags come from the packet's length, then
// a fixed grid of calls (grow and trim, absolute lengths at and around the limits: 0, 13, 14, 15,
// BPF_SKB_MAX_LEN and one past it, lengths that only fit in 64 bits, flags other than 0). Each call's
// answer, and skb->len and skb->gso_size after it, are summed into globals. The run then trims the
// packet back to its starting length (the test's output buffer holds 4 KiB more than the input),
// encapsulates it with bpf_skb_adjust_room (IPv4/IPv6 packets only) to see bpf_skb_change_tail refuse
// an encapsulated skb, takes the outer header off again, writes through fresh packet pointers and
// returns the first call's answer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ABS 0 /* new_len = val */
#define ADD 1 /* new_len = skb->len + val */
#define SUB 2 /* new_len = skb->len - val */
#define MAX_LEN 16064 /* BPF_SKB_MAX_LEN on 4 KiB pages */

struct call {
  __u32 kind;
  __u32 val;
  __u64 flags;
};

#define NCALLS 24
static const struct call grid[NCALLS] = {
    {ADD, 8, 0},
    {SUB, 8, 0},
    {ADD, 0, 0},
    {ADD, 1000, 0},
    {SUB, 1500, 0},
    {ABS, 0, 0},
    {ABS, 13, 0},
    {ABS, 14, 0},
    {ABS, 15, 0},
    {ABS, 60, 1},
    {ABS, 60, 1ULL << 63},
    {ABS, MAX_LEN, 0},
    {ABS, MAX_LEN + 1, 0},
    {ABS, 0xffffffff, 0},
    {SUB, 1, 0},
    {ABS, 4000, 0},
    {ADD, 4000, 0},
    {ABS, 34, 0},
    {ABS, 54, 2},
    {ABS, 2000, 0},
    {ADD, 14000, 0},
    {ABS, 600, 0},
    {SUB, 586, 0},
    {ABS, 14, 1},
};

__s64 answers[NCALLS];
__u64 lens[NCALLS];
__u64 gso_sizes[NCALLS];
__s64 first_answers, first_lens, trim_answers, encap_answers, encap_tail_answers[3], decap_answers, final_lens;

SEC("tc")
int change_tail(struct __sk_buff *skb) {
  const __u32 start_len = skb->len;
  __u64 first_len = (__u64)start_len * (start_len % 7) / 3; /* 0 .. 2x the packet */
  if (start_len % 13 == 0) first_len = MAX_LEN - 3 + start_len % 8;
  if (start_len % 17 == 0) first_len += 1ULL << 32;
  const __u64 first_flags = start_len % 11 == 0 ? 1ULL << (start_len % 64) : 0;
  long first = bpf_skb_change_tail(skb, first_len, first_flags);
  first_answers += first;
  first_lens += skb->len;

#pragma unroll
  for (int i = 0; i < NCALLS; i++) {
    __u64 len = grid[i].val;
    if (grid[i].kind == ADD) len = skb->len + grid[i].val;
    else if (grid[i].kind == SUB) len = skb->len - grid[i].val;
    answers[i] += bpf_skb_change_tail(skb, len, grid[i].flags);
    lens[i] += skb->len;
    gso_sizes[i] += skb->gso_size;
  }

  trim_answers += bpf_skb_change_tail(skb, start_len, 0);
  long encap = bpf_skb_adjust_room(skb, 28, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP);
  encap_answers += encap;
  encap_tail_answers[0] += bpf_skb_change_tail(skb, skb->len + 4, 0);
  encap_tail_answers[1] += bpf_skb_change_tail(skb, skb->len, 1);
  encap_tail_answers[2] += bpf_skb_change_tail(skb, 10, 0);
  if (encap == 0) decap_answers += bpf_skb_adjust_room(skb, -28, BPF_ADJ_ROOM_MAC, 0);
  final_lens += skb->len;

  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  if (data + 40 <= data_end) {
    __u8 *p = data;
    p[14] ^= 0x5a;
    p[39] = (__u8)skb->len;
  }
  return (int)first;
}

char _license[] SEC("license") = "GPL";
