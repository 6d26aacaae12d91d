// sk_skb programs as a sockmap proxy has them: a stream parser that frames a length-prefixed protocol
// and a stream verdict whose first payload byte picks what it does (pass after rewriting a byte, drop,
// redirect through the SOCKMAP/SOCKHASH, or one of the size-changing helpers with the u32 arguments at
// payload offsets 4, 8 and 12: `result` then holds the helper's answer, skb->len and the linear
// length, and the verdict is SK_PASS). The skb after the verdict is data_out.
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

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __s64);
} result SEC(".maps");

static void record(__u32 key, __s64 value) { bpf_map_update_elem(&result, &key, &value, BPF_ANY); }

SEC("sk_skb/stream_parser")
int parser(struct __sk_buff *skb) {
  __u16 n;
  if (bpf_skb_load_bytes(skb, 0, &n, sizeof n)) return 0;  // not enough yet
  return bpf_ntohs(n) + 2;
}

SEC("sk_skb/stream_verdict")
int verdict(struct __sk_buff *skb) {
  __u32 args[4] = {};
  long r;
  if (bpf_skb_load_bytes(skb, 0, args, sizeof args)) {
    __u8 c;
    if (bpf_skb_load_bytes(skb, 0, &c, 1)) return SK_DROP;
    args[0] = c;
  }
  switch (args[0] & 0xff) {
    case 'p': {  // a direct packet write, once the first bytes are linear
      bpf_skb_pull_data(skb, 2);
      void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
      if (data + 2 > data_end) return SK_DROP;
      ((__u8 *)data)[1] = 'x';
      return SK_PASS;
    }
    case 'd': return SK_DROP;
    case 'm': return bpf_sk_redirect_map(skb, &sock_map, args[1], args[2]);
    case 'h': return bpf_sk_redirect_hash(skb, &sock_hash, &args[1], args[2]);
    case 'l': r = bpf_skb_pull_data(skb, args[1]); break;
    case 't': r = bpf_skb_change_tail(skb, args[1], args[2]); break;
    case 'e': r = bpf_skb_change_head(skb, args[1], args[2]); break;
    case 'a': r = bpf_skb_adjust_room(skb, (__s32)args[1], args[2], args[3]); break;
    case 'f': {  // the context's socket fields, and the socket behind skb->sk
      struct bpf_sock *sk = skb->sk;
      if (!sk) return SK_DROP;
      r = skb->local_port + (skb->remote_port >> 16) + sk->src_port + sk->dst_port + sk->family;
      break;
    }
    default: return SK_DROP;
  }
  record(0, r);
  record(1, skb->len);
  record(2, (long)skb->data_end - (long)skb->data);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
