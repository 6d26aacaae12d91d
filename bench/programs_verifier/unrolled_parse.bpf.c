// Verifier bench: ~4,000 instructions of fully unrolled, bounds-checked packet work (a 512-byte weighted
// checksum plus per-16-byte map updates): large straight-line code with many packet range checks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 32);
  __type(key, __u32);
  __type(value, __u64);
} sums SEC(".maps");

SEC("xdp")
int unrolled_parse(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *end = (void *)(long)ctx->data_end;
  __u64 acc = 0;
#pragma clang loop unroll(full)
  for (int i = 0; i < 512; i++) {
    if (data + i + 1 > end) break;
    acc = acc * 31 + (__u64)data[i] * (i | 1);
    if ((i & 15) == 15) {
      __u32 k = (i >> 4) & 31;
      __u64 *v = bpf_map_lookup_elem(&sums, &k);
      if (v) __sync_fetch_and_add(v, acc);
    }
  }
  return acc & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
