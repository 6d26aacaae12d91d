// tc and sock_ops programs using a SOCKMAP and a SOCKHASH themselves. tc: bpf_map_update_elem with the test-run skb's socket
// (the kernel's test-run socket has no sockmap support: -EOPNOTSUPP; one that is not a full socket
// would be -EINVAL), lookups of empty slots (NULL; a found socket is released), deletes of empty slots
// (SOCKMAP -EINVAL, SOCKHASH -ENOENT). Every answer goes into `seen`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 4);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u64));
} socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 4);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u64));
} sock_hash SEC(".maps");

static __always_inline void remember(__u32 key, __u64 value) {
  __u64 *slot = bpf_map_lookup_elem(&seen, &key);
  if (slot) *slot = value;
}

SEC("tc")
int sockmap_ops(struct __sk_buff *skb) {
  __u32 key = skb->len & 3, far = 100;
  struct bpf_sock *sk = skb->sk;
  if (!sk) {
    remember(0, 1);
    return 1;
  }
  remember(1, bpf_map_update_elem(&socks, &key, sk, BPF_ANY));
  remember(2, bpf_map_update_elem(&sock_hash, &key, sk, BPF_NOEXIST));
  remember(3, bpf_map_update_elem(&socks, &far, sk, 7));
  struct bpf_sock *full = bpf_sk_fullsock(sk);
  if (full) remember(4, bpf_map_update_elem(&sock_hash, &far, full, BPF_EXIST));
  struct bpf_sock *found = bpf_map_lookup_elem(&socks, &key);
  remember(5, found != 0);
  if (found) bpf_sk_release(found);
  found = bpf_map_lookup_elem(&sock_hash, &key);
  remember(6, found != 0);
  if (found) bpf_sk_release(found);
  remember(7, bpf_map_delete_elem(&socks, &key));
  remember(8, bpf_map_delete_elem(&sock_hash, &key));
  remember(9, bpf_map_delete_elem(&socks, &far));
  return 0;
}



struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} ops_seen SEC(".maps");

// sock_ops adding its socket: bpf_sock_map_update and bpf_sock_hash_update at key args[1] with flags
// args[0]; the answers go into seen[10] and seen[11], and into ops_seen[op] as
// (u32)(map + 1000) | (u64)(u32)(hash + 1000) << 32 (non-zero: the op ran).
SEC("sockops")
int sock_ops_add(struct bpf_sock_ops *ops) {
  __u32 key = ops->args[1], op = ops->op;
  __u64 flags = ops->args[0];
  long map_rc = bpf_sock_map_update(ops, &socks, &key, flags);
  long hash_rc = bpf_sock_hash_update(ops, &sock_hash, &key, flags);
  remember(10, map_rc);
  remember(11, hash_rc);
  __u64 *slot = bpf_map_lookup_elem(&ops_seen, &op);
  if (slot) *slot = (__u32)(map_rc + 1000) | (__u64)(__u32)(hash_rc + 1000) << 32;
  return 1;
}

// A tc program reading the socket at SOCKMAP key skb->len & 3 (one sock_ops put there): found,
// family, src_ip4, src_port, dst_ip4, dst_port, state into seen[12..15] as (u64)a << 32 | b pairs.
SEC("tc")
int sockmap_ops_read(struct __sk_buff *skb) {
  __u32 key = skb->len & 3;
  struct bpf_sock *sk = bpf_map_lookup_elem(&socks, &key);
  if (!sk) {
    remember(12, 0);
    return 0;
  }
  remember(12, (__u64)1 << 32 | sk->family);
  remember(13, (__u64)sk->src_ip4 << 32 | sk->src_port);
  remember(14, (__u64)sk->dst_ip4 << 32 | sk->dst_port);
  remember(15, (__u64)sk->state << 32 | sk->type << 16 | sk->protocol);
  bpf_sk_release(sk);
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
