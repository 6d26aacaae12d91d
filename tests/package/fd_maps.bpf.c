// Maps whose entries a process cannot make with bpf() fds (test_c_api.c fills them with
// bpfvm_map_set_cgroup / bpfvm_map_set_xsk): a tc program answers bpf_skb_under_cgroup for slot
// skb->mark, and an XDP program redirects to the AF_XDP socket in slot 0 or passes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 2);
} cgroups SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 2);
} xsks SEC(".maps");

SEC("tc")
int under_cgroup(struct __sk_buff *skb) {
  return bpf_skb_under_cgroup(skb, &cgroups, skb->mark);
}

SEC("xdp")
int to_xsk(struct xdp_md *ctx) {
  return bpf_redirect_map(&xsks, 0, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
