// Open-coded numeric iterators (bpf_iter_num_new / next / destroy, the kfuncs behind libbpf's bpf_for
// and bpf_repeat) with ranges from the packet: sums over [start, end), an empty range, start > end
// (-EINVAL), a range longer than the kernel's 8M-iteration bound (-E2BIG), one starting at INT_MIN,
// next called again on a drained iterator, nested loops and a loop left by break.
#include "../../verifier/programs/iter_num.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32[16]);
} cells SEC(".maps");

__s64 range_sum, range_count, new_errs, intmin_first, nested, found_at, drained_again;

SEC("xdp")
int iter_num(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  if (data + 8 > data_end) return XDP_DROP;
  __u8 head[8];
  __builtin_memcpy(head, data, 8);
  __u32 key = 0;
  __u32 *arr = bpf_map_lookup_elem(&cells, &key);
  if (!arr) return XDP_ABORTED;

  // [start, end) from the packet: start > end now and then, a long range when head[2] says so.
  struct bpf_iter_num it;
  int start = (int)(head[0] & 31) - 8, end = (int)(head[1] & 31) - 4;
  if (head[2] == 0xff) end = start + 9000000;
  int err = bpf_iter_num_new(&it, start, end);
  new_errs += err;
  int *p;
  while ((p = bpf_iter_num_next(&it))) {
    range_sum += *p;
    range_count++;
    int i = *p & 15;
    arr[i] += 1;
  }
  drained_again += bpf_iter_num_next(&it) == 0;
  bpf_iter_num_destroy(&it);

  // A range starting at INT_MIN (the first next wraps cur to INT_MIN).
  struct bpf_iter_num low;
  bpf_iter_num_new(&low, -2147483647 - 1, -2147483647 - 1 + (head[3] & 3));
  if ((p = bpf_iter_num_next(&low))) intmin_first += *p == -2147483647 - 1;
  bpf_iter_num_destroy(&low);

  // Nested loops, the inner bound from the packet.
  struct bpf_iter_num outer, inner;
  bpf_iter_num_new(&outer, 0, head[4] & 7);
  while (bpf_iter_num_next(&outer)) {
    bpf_iter_num_new(&inner, 0, head[5] & 7);
    while (bpf_iter_num_next(&inner)) nested++;
    bpf_iter_num_destroy(&inner);
  }
  bpf_iter_num_destroy(&outer);

  // A loop left by break at the first cell holding the packet's byte.
  struct bpf_iter_num scan;
  int at = -1;
  bpf_iter_num_new(&scan, 0, 16);
  while ((p = bpf_iter_num_next(&scan))) {
    int i = *p;
    if (i < 0 || i >= 16) break;
    if ((arr[i] & 3) == (head[6] & 3)) {
      at = i;
      break;
    }
  }
  bpf_iter_num_destroy(&scan);
  found_at += at;
  return range_count & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
