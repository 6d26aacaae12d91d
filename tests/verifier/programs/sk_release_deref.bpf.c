// verdict: reject
// error: invalid mem access 'scalar'
// A socket pointer released by bpf_sk_release is an unknown scalar: a load through it is refused.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int sk_release_deref(struct __sk_buff *skb) {
  struct bpf_sock_tuple tuple = {};
  struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (!sk) return TC_ACT_OK;
  bpf_sk_release(sk);
  return sk->mark & 1;
}

char LICENSE[] SEC("license") = "GPL";
