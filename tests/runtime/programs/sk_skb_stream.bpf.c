// sk_skb programs as a sockmap proxy has them: a stream parser that frames a length-prefixed protocol
// and a stream verdict whose first payload byte picks what it does (pass after rewriting a byte, drop,
// redirect through the SOCKMAP/SOCKHASH, or one of the size-changing helpers with the u32 arguments at
// payload offsets 4, 8 and 12, returning the helper's answer). The skb after the verdict is data_out.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} sock_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} sock_hash SEC(".maps");

SEC("sk_skb/stream_parser")
int parser(struct __sk_buff *skb) {
  __u16 n;
  if (bpf_skb_load_bytes(skb, 0, &n, sizeof n)) return 0;  // not enough yet
  return bpf_ntohs(n) + 2;
}

SEC("sk_skb/stream_verdict")
int verdict(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
  __u8 *p = data;
  __u32 args[4] = {};
  if (data + 2 > data_end) return SK_DROP;
  if (bpf_skb_load_bytes(skb, 0, args, sizeof args)) args[0] = p[0];
  switch (p[0]) {
    case 'p': p[1] = 'x'; return SK_PASS;
    case 'd': return SK_DROP;
    case 'm': return bpf_sk_redirect_map(skb, &sock_map, args[1], args[2]);
    case 'h': return bpf_sk_redirect_hash(skb, &sock_hash, &args[1], args[2]);
    case 'l': return bpf_skb_pull_data(skb, args[1]);
    case 't': return bpf_skb_change_tail(skb, args[1], args[2]);
    case 'e': return bpf_skb_change_head(skb, args[1], args[2]);
    case 'a': return bpf_skb_adjust_room(skb, (__s32)args[1], args[2], args[3]);
    case 'f': {  // the context's socket fields, and the socket behind skb->sk
      struct bpf_sock *sk = skb->sk;
      if (!sk) return -1;
      return skb->len + skb->local_port + (skb->remote_port >> 16) + sk->src_port + sk->dst_port + sk->family;
    }
  }
  return SK_DROP;
}

char LICENSE[] SEC("license") = "GPL";
