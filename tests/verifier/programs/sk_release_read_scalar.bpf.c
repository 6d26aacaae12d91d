// verdict: accept
// After bpf_sk_release every copy of the socket pointer is invalid; a privileged loader (allow_ptr_leaks)
// gets it back as an unknown scalar (the kernel's mark_reg_invalid), which may be read as a number.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int sk_release_read_scalar(struct __sk_buff *skb) {
  struct bpf_sock_tuple tuple = {};
  struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (!sk) return TC_ACT_OK;
  bpf_sk_release(sk);
  return ((unsigned long)sk >> 4) & 1;
}

char LICENSE[] SEC("license") = "GPL";
