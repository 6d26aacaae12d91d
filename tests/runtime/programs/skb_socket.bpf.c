// The __sk_buff helpers that answer from the test-run skb's socket, from a socket filter, tc and
// cgroup_skb: bpf_get_socket_cookie (its value is the kernel's global counter's, so only its
// properties are kept: non-zero, stable within a test run, new for each test run),
// bpf_get_socket_uid, bpf_get_netns_cookie (the skb's and init_net's), and from tc and cgroup_skb
// bpf_skb_cgroup_id and bpf_skb_ancestor_cgroup_id (the test process's own cgroup, the same on both
// sides), from tc bpf_skb_cgroup_classid.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 cookie_nonzero, cookie_stable, cookie_changed;
__u64 last_cookie SEC(".data.uncompared") = 0; /* the side's own number: not compared */
__u64 uid_sum, netns_sum, init_netns_sum, classid_sum, cgroup_sum, runs;
__u64 ancestors[8];

static __always_inline void socket_answers(struct __sk_buff *skb) {
  const __u64 c = bpf_get_socket_cookie(skb);
  cookie_nonzero += c != 0;
  cookie_stable += c == bpf_get_socket_cookie(skb);
  cookie_changed += c != last_cookie;
  last_cookie = c;
  uid_sum += bpf_get_socket_uid(skb);
  netns_sum += bpf_get_netns_cookie(skb);
  init_netns_sum += bpf_get_netns_cookie(0);
  runs++;
}

static __always_inline void cgroup_answers(struct __sk_buff *skb) {
  cgroup_sum += bpf_skb_cgroup_id(skb);
  const int levels[8] = {0, 1, 2, 3, 4, -1, 64, 0x7fffffff};
#pragma unroll
  for (int i = 0; i < 8; i++) ancestors[i] += bpf_skb_ancestor_cgroup_id(skb, levels[i]);
}

SEC("socket")
int skb_socket_filter(struct __sk_buff *skb) {
  socket_answers(skb);
  return skb->len;
}

SEC("tc")
int skb_socket_tc(struct __sk_buff *skb) {
  socket_answers(skb);
  cgroup_answers(skb);
  classid_sum += bpf_skb_cgroup_classid(skb);
  return 0;
}

SEC("cgroup_skb/ingress")
int skb_socket_cgroup(struct __sk_buff *skb) {
  socket_answers(skb);
  cgroup_answers(skb);
  return 1;
}

char _license[] SEC("license") = "GPL";
