// Fuzzing target with a planted bug: an XDP classifier for a made-up tunnel. UDP packets to port
// 6081 carry an 8-byte shim header {magic, class, flags, flow id}; the class picks a counter in
// `class_stats` and the packet passes. Everything else passes untouched, truncated packets drop.
//
// The bug: the class bound is checked with `>` instead of `>=`, so class 4 (NR_CLASSES) slips
// through. The verifier is happy — the map lookup is null-checked — but the lookup of key 4 fails
// and the "cannot happen" branch returns XDP_ABORTED. Property to fuzz for: retval != 0.
//   bpfvm fuzz planted_bug.bpf.o --prog xdp_classify --property 'retval!=0' --time 60
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define SHIM_PORT 6081
#define SHIM_MAGIC 0xb7f1
#define NR_CLASSES 4

struct shim {
  __be16 magic;
  __u8 class;
  __u8 flags;
  __be32 flow;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NR_CLASSES);
  __type(key, __u32);
  __type(value, __u64);
} class_stats SEC(".maps");

// Flows seen with the "trace" flag, for a debugging tool.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} traced_flows SEC(".maps");

SEC("xdp")
int xdp_classify(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_DROP;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_DROP;
  if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return XDP_PASS;
  struct udphdr *udp = (void *)(ip + 1);
  if ((void *)(udp + 1) > data_end) return XDP_DROP;
  if (udp->dest != bpf_htons(SHIM_PORT)) return XDP_PASS;
  struct shim *sh = (void *)(udp + 1);
  if ((void *)(sh + 1) > data_end) return XDP_DROP;
  if (sh->magic != bpf_htons(SHIM_MAGIC)) return XDP_DROP;
  if (sh->flags & 0x80) {
    __u32 flow = bpf_ntohl(sh->flow), one = 1;
    bpf_map_update_elem(&traced_flows, &flow, &one, BPF_ANY);
  }
  __u32 class = sh->class;
  if (class > NR_CLASSES) return XDP_DROP;  // BUG: should be >= NR_CLASSES
  __u64 *count = bpf_map_lookup_elem(&class_stats, &class);
  if (!count) return XDP_ABORTED;  // "cannot happen"
  __sync_fetch_and_add(count, 1);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
