/* Program sections named as loaders before libbpf 1.0 accepted them, global and static programs.
 * Expected (type by the longest known prefix; "test", "tail-32" and "2/1" name none):
 *   socket1 socket/0 -> socket_filter; cgroup/sock1 -> cgroup_sock; xdp_prog xdp_prog/0 -> xdp;
 *   classifier -> sched_cls; action -> sched_act. Every program is accepted by the kernel as that
 *   type except `cls_unchecked` (a packet read with no bounds check). */
#include "legacy_helpers.h"

SEC("socket1") int sock_len(struct __sk_buff *skb) { return skb->len; }

/* Static: older libbpf and iproute2 loaded static functions in program sections too. */
SEC("socket/0") static int sock_static(struct __sk_buff *skb) { return skb->protocol == 8 ? -1 : 0; }

SEC("cgroup/sock1") int sock_create(struct bpf_sock *sk) { return sk->family != 10; }

SEC("xdp_prog") int xdp_pass(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 14 > end) return XDP_DROP;
  return ((unsigned char *)data)[12] == 0x08 ? XDP_PASS : XDP_TX;
}

SEC("xdp_prog/0") static int xdp_static(struct xdp_md *ctx) { return ctx->ingress_ifindex ? XDP_PASS : XDP_ABORTED; }

SEC("classifier") int cls_unchecked(struct __sk_buff *skb) {
  unsigned char *data = (void *)(long)skb->data;
  return data[0];  /* no data_end check: the kernel rejects this */
}

SEC("action") int act_mark(struct __sk_buff *skb) {
  skb->mark = 7;
  return 0; /* TC_ACT_OK */
}

SEC("tc_mark") int tc_set_mark(struct __sk_buff *skb) {  /* old libbpf's "tc" prefix */
  skb->mark = skb->len;
  return 0;
}

/* Names no loader's prefix explains: the type comes from the command (iproute2) or --type. */
SEC("test") int test_prog(struct __sk_buff *skb) { return skb->len > 100; }
SEC("tail-32") int tail_prog(struct __sk_buff *skb) { return skb->pkt_type; }
SEC("2/1") static int numbered_prog(struct __sk_buff *skb) { return skb->ifindex; }

char _license[] SEC("license") = "GPL";
