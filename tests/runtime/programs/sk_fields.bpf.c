// tc program over the socket a test-run skb carries: __sk_buff.sk's fields, bpf_sk_fullsock's extra
// fields, bpf_tcp_sock and bpf_get_listener_sock (NULL for that socket), and bpf_sk_lookup_tcp/udp of an
// unbound tuple (nothing found; released if something were). Every value goes into `seen`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 24);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

static __always_inline void remember(__u32 key, __u64 value) {
  __u64 *slot = bpf_map_lookup_elem(&seen, &key);
  if (slot) *slot = value;
}

SEC("tc")
int sk_fields(struct __sk_buff *skb) {
  struct bpf_sock *sk = skb->sk;
  if (!sk) {
    remember(0, 1);
    return 1;
  }
  remember(1, sk->family);
  remember(2, sk->state);
  remember(3, sk->src_ip4);
  remember(4, sk->dst_ip4);
  remember(5, sk->src_ip6[0] ^ sk->src_ip6[3]);
  remember(6, sk->dst_ip6[1] ^ sk->dst_ip6[2]);
  remember(7, sk->src_port);
  remember(8, sk->dst_port);
  remember(9, (__u32)sk->rx_queue_mapping);
  remember(10, sk->bound_dev_if);
  struct bpf_sock *full = bpf_sk_fullsock(sk);
  if (full) {
    remember(11, full->type);
    remember(12, full->protocol);
    remember(13, full->mark);
    remember(14, full->priority);
    struct bpf_tcp_sock *tp = bpf_tcp_sock(full);
    remember(15, tp ? tp->snd_cwnd + 1 : 0);
    struct bpf_sock *listener = bpf_get_listener_sock(full);
    remember(16, listener ? 1 : 2);
  } else {
    remember(11, 99);
  }
  struct bpf_sock_tuple tuple = {};
  tuple.ipv4.dport = __builtin_bswap16(9);  // discard: nothing listens on it here
  struct bpf_sock *found = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (found) {
    remember(17, found->family);
    bpf_sk_release(found);
  } else {
    remember(17, 99);
  }
  found = bpf_sk_lookup_udp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (found) {
    remember(18, found->family);
    bpf_sk_release(found);
  } else {
    remember(18, 99);
  }
  return sk->family == 2 ? 0 : 2;  // TC_ACT_OK for IPv4, else TC_ACT_SHOT
}

char LICENSE[] SEC("license") = "GPL";
