// XDP program for the embedding examples: hashes each IPv4 packet's source address with a helper the
// host provides (id 0x10000) and counts packets per hash bucket in an array map the host reads.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define NR_BUCKETS 8

// The host's helper: not a kernel helper, so it is called through its id, like the kernel's own
// helper declarations in bpf_helper_defs.h.
static long (*host_hash)(__u64 value, __u64 seed) = (void *)0x10000;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NR_BUCKETS);
  __type(key, __u32);
  __type(value, __u64);
} buckets SEC(".maps");

SEC("xdp")
int count_sources(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = data + sizeof(*eth);
  if ((void *)(ip + 1) > data_end) return XDP_DROP;  // runt frame
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  __u32 key = (__u64)host_hash(ip->saddr, 0x9e3779b9) % NR_BUCKETS;
  __u64 *count = bpf_map_lookup_elem(&buckets, &key);
  if (count) __sync_fetch_and_add(count, 1);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
