// XDP forwarding through redirect maps in the style of samples/bpf xdp_fwd / xdp_redirect_map: pick a
// DEVMAP, DEVMAP_HASH, CPUMAP or XSKMAP and a key from the packet length, with action bits and
// BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS / an unknown flag from it too, and return bpf_redirect_map's
// answer. Devmap entries are also read with bpf_map_lookup_elem, as xdp_fwd does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, struct bpf_devmap_val);
} tx_port SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u32);
} tx_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_CPUMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int redirect(struct xdp_md *ctx) {
  const __u32 len = ctx->data_end - ctx->data;
  const __u32 key = (len / 4) % 10;
  const __u32 bits = (len / 40) % 32;
  __u64 flags = bits & 3;
  if (bits & 4) flags |= BPF_F_BROADCAST;
  if (bits & 8) flags |= BPF_F_EXCLUDE_INGRESS;
  if ((bits & 16) && (len & 1)) flags |= 1 << 6;  // no such flag: XDP_ABORTED

  __u32 zero = 0;
  __u64 *count = bpf_map_lookup_elem(&seen, &zero);
  struct bpf_devmap_val *dev = bpf_map_lookup_elem(&tx_port, &key);
  if (count && dev) *count += dev->ifindex + key;

  switch (len % 4) {
    case 0: return bpf_redirect_map(&tx_port, key, flags);
    case 1: return bpf_redirect_map(&tx_hash, key, flags);
    case 2: return bpf_redirect_map(&cpu_map, key, flags);
    default: return bpf_redirect_map(&xsks, key, flags);
  }
}

char _license[] SEC("license") = "GPL";

// A devmap program (BPF_XDP_DEVMAP): the only XDP kind that may read egress_ifindex. The kernel has
// no test run for it (bpf_prog_test_run_xdp: EINVAL), and neither has bpfvm.
SEC("xdp/devmap")
int egress(struct xdp_md *ctx) {
  return ctx->egress_ifindex == 1 ? XDP_PASS : XDP_DROP;
}
