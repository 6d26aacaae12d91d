// verdict: reject
// error: R1 type=scalar
// A socket pointer released by bpf_sk_release is an unknown scalar: no helper takes it as a socket.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int sk_release_helper_arg(struct __sk_buff *skb) {
  struct bpf_sock_tuple tuple = {};
  struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (!sk) return TC_ACT_OK;
  bpf_sk_release(sk);
  return bpf_tcp_sock(sk) != 0;
}

char LICENSE[] SEC("license") = "GPL";
