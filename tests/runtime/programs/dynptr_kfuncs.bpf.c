// The generic dynptr kfuncs on local dynptrs (bpf_dynptr_from_mem over a map value), offsets and
// lengths from the packet: bpf_dynptr_size, bpf_dynptr_is_null / is_rdonly (also on a null dynptr),
// bpf_dynptr_adjust (in range, start > end -EINVAL, past the size -ERANGE), bpf_dynptr_slice without and
// with a buffer (hits and NULL past the end), bpf_dynptr_clone of a good and of a null dynptr.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../../verifier/programs/dynptr_packet.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[64]);
} store SEC(".maps");

__u64 sizes, nulls, rdonly, adjust_sum, slice_sum, buffer_sum, clone_sum;
__s64 adjust_errs, clone_errs;
__u32 slice_hits, slice_misses;

SEC("xdp")
int dynptr_kfuncs(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  if (data + 16 > data_end) return XDP_DROP;
  __u8 head[16];
  __builtin_memcpy(head, data, 16);
  __u32 key = 0;
  __u8 *val = bpf_map_lookup_elem(&store, &key);
  if (!val) return XDP_ABORTED;
  __builtin_memcpy(val + (head[6] & 31), head, 16);

  struct bpf_dynptr dp, copy, bad, bad_copy;
  __u32 size = head[0] & 63;
  if (size < 8) size = 8;
  bpf_dynptr_from_mem(val, size, 0, &dp);
  sizes += bpf_dynptr_size(&dp);
  nulls += bpf_dynptr_is_null(&dp);
  rdonly += bpf_dynptr_is_rdonly(&dp);

  int err = bpf_dynptr_adjust(&dp, head[1] & 31, head[2] & 63);
  adjust_errs += err;
  if (!err) adjust_sum += bpf_dynptr_size(&dp);

  const __u64 *s = bpf_dynptr_slice(&dp, head[3] & 31, NULL, 8);
  if (s) {
    slice_hits++;
    slice_sum += *s;
  } else {
    slice_misses++;
  }
  __u8 buffer[4];
  const __u8 *b = bpf_dynptr_slice(&dp, head[4] & 15, buffer, sizeof buffer);
  if (b) buffer_sum += b[0] + b[3];

  clone_errs += bpf_dynptr_clone(&dp, &copy);
  clone_sum += bpf_dynptr_size(&copy);

  // A bad flag leaves a null dynptr: is_null 1, size (u32)-EINVAL, adjust and clone -EINVAL, slice NULL.
  bpf_dynptr_from_mem(val, 8, 1 + (head[5] & 1), &bad);
  nulls += bpf_dynptr_is_null(&bad) * 100;
  rdonly += bpf_dynptr_is_rdonly(&bad);
  sizes += bpf_dynptr_size(&bad);
  adjust_errs += bpf_dynptr_adjust(&bad, 0, 0);
  clone_errs += bpf_dynptr_clone(&bad, &bad_copy);
  nulls += bpf_dynptr_is_null(&bad_copy) * 10000;
  if (bpf_dynptr_slice(&bad, 0, NULL, 1)) slice_hits += 1000;
  return size > 32 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
