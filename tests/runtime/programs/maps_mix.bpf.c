// One XDP program over every hash/array flavour plus global variables: flow counters in a hash and an
// LRU hash, per-protocol counters in an array, per-CPU array and per-CPU hash, a longest-prefix-match
// route lookup (routes filled by the host) and .data/.bss/.rodata variables.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct flow {
  __u32 saddr, daddr;
  __u8 proto, pad[3];
};

struct stats {
  __u64 packets, bytes;
};

struct lpm_v4 {
  __u32 prefixlen;
  __u32 addr;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);  // small: the host checks -E2BIG once it is full
  __type(key, struct flow);
  __type(value, struct stats);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);  // larger than the keys a run produces: contents stay exact
  __type(key, __u32);
  __type(value, struct stats);
} lru_src SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, struct stats);
} by_proto SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} pcpu_len SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 128);
  __type(key, __u16);
  __type(value, struct stats);
} pcpu_ethertype SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 64);
  __type(key, struct lpm_v4);
  __type(value, __u32);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} route_hits SEC(".maps");

const volatile __u32 drop_proto = 47;  // .rodata: frozen, read-only for the program
__u64 packets_seen = 7;                // .data
__u64 ipv6_seen;                       // .bss
__u32 last_route;                      // .bss
int flow_update_errors;                // .bss: sum of bpf_map_update_elem errnos (-E2BIG when full)

static __always_inline void add_stats(struct stats *s, __u64 len) {
  __sync_fetch_and_add(&s->packets, 1);
  __sync_fetch_and_add(&s->bytes, len);
}

SEC("xdp")
int maps_mix(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  __u64 len = data_end - data;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_DROP;
  packets_seen++;

  __u32 slot = len & 3;
  __u64 *pl = bpf_map_lookup_elem(&pcpu_len, &slot);
  if (pl) *pl += len;

  __u16 et = bpf_ntohs(eth->h_proto);
  struct stats *es = bpf_map_lookup_elem(&pcpu_ethertype, &et);
  if (es) {
    es->packets++;
    es->bytes += len;
  } else {
    struct stats init = {1, len};
    bpf_map_update_elem(&pcpu_ethertype, &et, &init, BPF_ANY);
  }

  if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
    ipv6_seen++;
    return XDP_PASS;
  }
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *iph = (void *)(eth + 1);
  if ((void *)(iph + 1) > data_end) return XDP_DROP;

  __u32 proto = iph->protocol;
  struct stats *ps = bpf_map_lookup_elem(&by_proto, &proto);
  if (ps) add_stats(ps, len);
  if (proto == drop_proto) return XDP_DROP;

  struct flow f = {.saddr = iph->saddr, .daddr = iph->daddr, .proto = iph->protocol};
  struct stats *fs = bpf_map_lookup_elem(&flows, &f);
  if (fs) {
    add_stats(fs, len);
  } else {
    struct stats init = {1, len};
    flow_update_errors += bpf_map_update_elem(&flows, &f, &init, BPF_NOEXIST);
  }

  __u32 src = iph->saddr;
  struct stats *ls = bpf_map_lookup_elem(&lru_src, &src);
  if (ls) {
    add_stats(ls, len);
  } else {
    struct stats init = {1, len};
    bpf_map_update_elem(&lru_src, &src, &init, BPF_ANY);
  }

  struct lpm_v4 k = {.prefixlen = 32, .addr = iph->daddr};
  __u32 *route = bpf_map_lookup_elem(&routes, &k);
  if (!route) return XDP_PASS;
  last_route = *route;
  __u32 idx = *route & 15;
  __u64 *hits = bpf_map_lookup_elem(&route_hits, &idx);
  if (hits) __sync_fetch_and_add(hits, 1);
  return *route & 1 ? XDP_TX : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
