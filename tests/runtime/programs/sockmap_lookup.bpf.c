// A tc program reading a socket the host put in a SOCKMAP and a SOCKHASH (real loopback TCP sockets,
// the same fds in the kernel's maps and bpfvm's): bpf_map_lookup_elem gives a struct bpf_sock the
// program reads, copies into slot 7 and releases. Slot skb->len & 7; every field goes into `fields` at
// slot * 32 + i.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "host_socket_maps.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u64);
} fields SEC(".maps");

static __always_inline void put(__u32 key, __u64 value) {
  __u64 *slot = bpf_map_lookup_elem(&fields, &key);
  if (slot) *slot = value;
}

// Fields 0..24 of one socket, from base (a socket pointer the program holds a reference to).
static __always_inline void put_socket(__u32 base, struct bpf_sock *sk) {
  put(base + 0, sk->bound_dev_if);
  put(base + 1, sk->family);
  put(base + 2, sk->type);
  put(base + 3, sk->protocol);
  put(base + 4, sk->mark);
  put(base + 5, sk->priority);
  put(base + 6, sk->src_ip4);
  put(base + 7, sk->src_ip6[0]);
  put(base + 8, sk->src_ip6[1]);
  put(base + 9, sk->src_ip6[2]);
  put(base + 10, sk->src_ip6[3]);
  put(base + 11, sk->src_port);
  put(base + 12, sk->dst_port);
  // An IPv6 socket's dst_ip4 is left out: the kernel gives an accepted one the placeholder 127.0.0.6,
  // which bpfvm cannot tell from the socket (maps/README.md).
  if (sk->family == 2 /* AF_INET */) put(base + 13, sk->dst_ip4);
  put(base + 14, sk->dst_ip6[0]);
  put(base + 15, sk->dst_ip6[1]);
  put(base + 16, sk->dst_ip6[2]);
  put(base + 17, sk->dst_ip6[3]);
  put(base + 18, sk->state);
  // rx_queue_mapping is not compared: the kernel records the receive queue of what an accepted socket
  // received (-1, 0 or another number from run to run); bpfvm reports -1.
  struct bpf_sock *full = bpf_sk_fullsock(sk);
  put(base + 20, full != 0);
  struct bpf_sock *listener = bpf_get_listener_sock(sk);
  put(base + 21, listener != 0);
}

SEC("tc")
int sockmap_lookup(struct __sk_buff *skb) {
  __u32 key = skb->len & 7;
  __u32 base = key * 32;
  struct bpf_sock *sk = bpf_map_lookup_elem(&lookup_socks, &key);
  put(base + 30, sk != 0);
  if (sk) {
    put_socket(base, sk);
    // The program puts the socket it found into slot 7 too: the host sees that socket's cookie there.
    __u32 copy = 7;
    put(base + 25, bpf_map_update_elem(&lookup_socks, &copy, sk, BPF_ANY));
    bpf_sk_release(sk);
  }
  // The SOCKHASH holds the same sockets under the same keys: the same fields. (Nothing reads sk after
  // bpf_sk_release: bpfvm's verifier makes a released pointer unreadable, the kernel's a scalar.)
  sk = bpf_map_lookup_elem(&lookup_hash, &key);
  put(base + 31, sk != 0);
  if (sk) {
    put(base + 22, sk->src_port);
    put(base + 23, sk->dst_port);
    put(base + 24, sk->state);
    bpf_sk_release(sk);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
