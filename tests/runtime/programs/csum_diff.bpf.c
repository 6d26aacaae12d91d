// bpf_csum_diff from XDP with sizes and seeds taken from the packet: from-only, to-only and both, sizes
// that are and are not multiples of 4 (samples/bpf xdp_adjust_tail folds the result once itself, so
// the 16-bit value the kernel returns since 6.13 shows in its checksum).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} last SEC(".maps");

SEC("xdp")
int csum_diff(struct xdp_md *ctx) {
  __u8 buf[128];
  __builtin_memset(buf, 0, sizeof buf);
  const __u32 len = ctx->data_end - ctx->data;
  const __u32 n = len & 127;
  if (n && bpf_xdp_load_bytes(ctx, 0, buf, n)) return XDP_ABORTED;
  __u32 from_size = (len * 7 + buf[23]) & 63;
  __u32 to_size = (len * 13 + buf[33]) & 63;
  if (len & 8) from_size = 0;
  if (len & 16) to_size = 0;
  __u32 seed = 0;
  __builtin_memcpy(&seed, buf + 26, 4);
  if (len & 32) seed = ~seed;
  const __s64 r = bpf_csum_diff((__be32 *)buf, from_size, (__be32 *)(buf + 64), to_size, seed);
  __u32 zero = 0;
  __u64 *slot = bpf_map_lookup_elem(&last, &zero);
  if (slot) *slot = r;
  return (__u32)r;
}

char _license[] SEC("license") = "GPL";
