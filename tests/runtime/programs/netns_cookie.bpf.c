// bpf_get_netns_cookie from tc and cgroup_skb test runs: of the skb (its device's or socket's
// namespace) and of NULL (init_net), into globals.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 tc_ctx, tc_null, cg_ctx, cg_null;

SEC("tc")
int tc_netns_cookie(struct __sk_buff *skb) {
  tc_ctx = bpf_get_netns_cookie(skb);
  tc_null = bpf_get_netns_cookie(NULL);
  return 0;
}

SEC("cgroup_skb/ingress")
int cgroup_skb_netns_cookie(struct __sk_buff *skb) {
  cg_ctx = bpf_get_netns_cookie(skb);
  cg_null = bpf_get_netns_cookie(NULL);
  return 1;
}

char _license[] SEC("license") = "GPL";
