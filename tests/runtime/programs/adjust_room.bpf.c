// bpf_skb_adjust_room from tc: one call whose length, mode and flags come from the packet's length,
// then a fixed grid of calls (MAC and NET mode, growing and shrinking, the encapsulation and
// decapsulation flags, and the refusals: unknown flag or mode, |len_diff| above 0xfff, IPv4+IPv6,
// GRE+UDP, an L2 length below 14 with ENCAP_L2_ETH or above len_diff, DECAP when growing, both DECAP
// flags, ENCAP flags when shrinking, a second encapsulation, shrinking below the IP header, growing
// past BPF_SKB_MAX_LEN). Each call's answer, and skb->len and skb->protocol after it, are summed into
// globals; the run then shrinks the packet back towards its starting length (the test's output
// buffer holds 4 KiB more than the input), writes through fresh packet pointers and returns the first
// call's answer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define DECAP_L3_IPV4 (1ULL << 7) /* BPF_F_ADJ_ROOM_DECAP_L3_IPV4, newer than Debian's UAPI header */
#define DECAP_L3_IPV6 (1ULL << 8)
#define ENCAP4 BPF_F_ADJ_ROOM_ENCAP_L3_IPV4
#define ENCAP6 BPF_F_ADJ_ROOM_ENCAP_L3_IPV6
#define MAC BPF_ADJ_ROOM_MAC
#define NET BPF_ADJ_ROOM_NET

struct call {
  __s32 len_diff;
  __u32 mode;
  __u64 flags;
};

#define NCALLS 34
static const struct call grid[NCALLS] = {
    {8, MAC, 0},
    {-8, MAC, 0},
    {20, NET, 0},
    {-20, NET, BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_NO_CSUM_RESET},
    {0, MAC, 0},
    {0x1000, MAC, 0},
    {-0x1000, NET, 0},
    {4, 2, 0},
    {-4, 7, 0},
    {4, MAC, 1ULL << 9},
    {4, MAC, 1ULL << 40},
    {20, MAC, ENCAP4 | ENCAP6},
    {28, MAC, ENCAP4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP},
    {24, MAC, ENCAP4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(4)},
    {10, MAC, ENCAP6 | BPF_F_ADJ_ROOM_ENCAP_L2(12)},
    {4, NET, DECAP_L3_IPV4},
    {-4, NET, DECAP_L3_IPV4 | DECAP_L3_IPV6},
    {-8, MAC, ENCAP4},
    {-8, MAC, BPF_F_ADJ_ROOM_ENCAP_L4_UDP},
    {4, MAC, BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2(2)}, /* no ENCAP_L3: plain grow */
    {-4, MAC, 0},
    {28, MAC, ENCAP4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP},
    {40, MAC, ENCAP6},
    {-28, MAC, 0},
    {54, NET, ENCAP6 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(14)},
    {-20, NET, DECAP_L3_IPV6},
    {-20, MAC, DECAP_L3_IPV4},
    {-2000, MAC, 0},
    {0xfff, MAC, 0},
    {0xfff, NET, 0},
    {0xfff, MAC, 0},
    {0xfff, MAC, 0},
    {-0xfff, MAC, 0},
    {-0xfff, NET, 0},
};

__s64 answers[NCALLS];
__u64 lens[NCALLS];
__u64 protocols[NCALLS];
__s64 first_answers, first_lens, final_lens;

static const __u64 varied_flags[16] = {
    0,
    ENCAP4,
    ENCAP6 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP,
    ENCAP4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(14),
    ENCAP6 | BPF_F_ADJ_ROOM_ENCAP_L2(8),
    DECAP_L3_IPV4,
    DECAP_L3_IPV6,
    BPF_F_ADJ_ROOM_FIXED_GSO,
    BPF_F_ADJ_ROOM_NO_CSUM_RESET,
    ENCAP4 | ENCAP6,
    1ULL << 12,
    ENCAP4 | BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(20),
    ENCAP6 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP,
    ENCAP4 | BPF_F_ADJ_ROOM_ENCAP_L2(70),
    DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO,
    0,
};

SEC("tc")
int adjust_room(struct __sk_buff *skb) {
  const __u32 start_len = skb->len;
  __s32 diff = (__s32)(start_len % 121) - 60;
  if (start_len % 9 == 0) diff *= 70; /* beyond 0xfff at the ends */
  const __u32 mode = (start_len / 11) % 3;
  long first = bpf_skb_adjust_room(skb, diff, mode, varied_flags[(start_len >> 3) & 15]);
  first_answers += first;
  first_lens += skb->len;

#pragma unroll
  for (int i = 0; i < NCALLS; i++) {
    answers[i] += bpf_skb_adjust_room(skb, grid[i].len_diff, grid[i].mode, grid[i].flags);
    lens[i] += skb->len;
    protocols[i] += skb->protocol;
  }

#pragma unroll
  for (int i = 0; i < 5; i++) {
    __u32 len = skb->len;
    if (len <= start_len) break;
    __u32 chunk = len - start_len > 0xfff ? 0xfff : len - start_len;
    if (bpf_skb_adjust_room(skb, -(__s32)chunk, MAC, 0) != 0) break;
  }
  final_lens += skb->len;

  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  if (data + 40 <= data_end) {
    __u8 *p = data;
    p[14] ^= 0xa5;
    p[39] = (__u8)skb->len;
  }
  return (int)first;
}

char _license[] SEC("license") = "GPL";
