// Local dynptrs (bpf_dynptr_from_mem over a map value): packet bytes chosen offsets and lengths go
// through bpf_dynptr_write / bpf_dynptr_read / bpf_dynptr_data, so in-range, past-the-end (-E2BIG,
// NULL) and bad-flag (-EINVAL, a null dynptr) cases all occur. Errnos and bytes land in globals and
// in the map value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[64]);
} store SEC(".maps");

__s64 write_errs, read_errs, flag_errs, null_errs;
__u32 data_hits, data_misses;
__u64 read_back, sliced;

SEC("xdp")
int dynptr_mem(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  if (data + 16 > data_end) return XDP_DROP;
  __u8 head[16];
  __builtin_memcpy(head, data, 16);
  __u32 key = 0;
  __u8 *val = bpf_map_lookup_elem(&store, &key);
  if (!val) return XDP_ABORTED;

  struct bpf_dynptr dp;
  __u32 size = head[0] & 63;
  if (size < 8) size = 8;
  bpf_dynptr_from_mem(val, size, 0, &dp);
  __u32 off = head[1] & 63;
  write_errs += bpf_dynptr_write(&dp, off, head, 8, 0);
  __u64 word = 0;
  long err = bpf_dynptr_read(&word, sizeof word, &dp, head[2] & 63, 0);
  read_errs += err;
  if (!err) read_back += word;
  __u64 *slice = bpf_dynptr_data(&dp, head[3] & 63, 8);
  if (slice) {
    data_hits++;
    sliced += *slice;
    *slice ^= 0x5a;
  } else {
    data_misses++;
  }
  flag_errs += bpf_dynptr_write(&dp, 0, head, 4, head[4] & 1);

  // A bad flag leaves a null dynptr: every later helper on it gives -EINVAL (data: NULL).
  struct bpf_dynptr bad;
  flag_errs += bpf_dynptr_from_mem(val, 8, 1 + (head[5] & 1), &bad);
  null_errs += bpf_dynptr_read(&word, sizeof word, &bad, 0, 0);
  null_errs += bpf_dynptr_write(&bad, 0, head, 1, 0);
  if (bpf_dynptr_data(&bad, 0, 1)) null_errs += 1000;
  return size > 32 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
