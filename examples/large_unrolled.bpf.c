// Example 6: a ~1,000-instruction program (a fully unrolled checksum loop plus map updates), the size
// the loader benchmark is specified against.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} sums SEC(".maps");

__u64 weights[8] = {1, 3, 5, 7, 11, 13, 17, 19};

SEC("xdp")
int checksum(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *end = (void *)(long)ctx->data_end;
  __u64 acc = 0;
#pragma clang loop unroll(full)
  for (int i = 0; i < 96; i++) {
    if (data + i + 1 > end) break;
    acc += (__u64)data[i] * weights[i & 7];
    if ((i & 15) == 15) {
      __u32 k = (i >> 4) & 7;
      __u64 *v = bpf_map_lookup_elem(&sums, &k);
      if (v) *v += acc;
    }
  }
  return acc & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
