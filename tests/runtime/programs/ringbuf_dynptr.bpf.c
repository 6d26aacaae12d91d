// Ring buffer dynptrs from XDP, for test_ringbuf_dynptr: each packet reserves a 1..32-byte record with
// bpf_ringbuf_reserve_dynptr (now and then with bad flags or a size too large), fills it with
// bpf_dynptr_write, stamps a sequence number through a bpf_dynptr_data slice, tries a write that may
// run past the end, reads a word back, then submits or discards it. The test consumes the ring only
// now and then, so it fills and reservations fail (a null dynptr, released all the same). Every
// helper's answer lands in globals.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} records SEC(".maps");

__u32 seq;
__s64 reserve_errs, write_errs, tail_errs, read_errs;
__u32 reserved, null_slices, discarded;
__u64 read_back, prod_pos, avail;

SEC("xdp")
int ringbuf_dynptr(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  if (data + 32 > data_end) return XDP_DROP;
  __u8 buf[32];
  __builtin_memcpy(buf, data, 32);
  const __u8 mix = buf[5] ^ buf[11] ^ buf[13] ^ buf[31];
  const __u32 len = (mix & 31) + 1;
  // Now and then bad flags (-EINVAL), a size past DYNPTR_MAX_SIZE (-E2BIG) or past the ring (-EINVAL).
  const __u64 flags = seq % 41 == 7 ? 2 : 0;
  __u32 size = len;
  if (seq % 37 == 5) size = 1u << 24;
  if (seq % 37 == 20) size = 8192;

  struct bpf_dynptr dp;
  const long err = bpf_ringbuf_reserve_dynptr(&records, size, flags, &dp);
  if (err) reserve_errs += err;
  else reserved++;
  write_errs += bpf_dynptr_write(&dp, 0, buf, len, 0);
  __u32 *stamp = bpf_dynptr_data(&dp, 0, sizeof(__u32));
  if (stamp) *stamp = seq;
  else null_slices++;
  tail_errs += bpf_dynptr_write(&dp, buf[7] & 31, &seq, sizeof seq, 0);
  __u64 word = 0;
  read_errs += bpf_dynptr_read(&word, sizeof word, &dp, 0, 0);
  read_back += word;
  seq++;
  if (mix & 0x40) {
    discarded++;
    bpf_ringbuf_discard_dynptr(&dp, 0);
  } else {
    bpf_ringbuf_submit_dynptr(&dp, BPF_RB_NO_WAKEUP);
  }
  prod_pos = bpf_ringbuf_query(&records, BPF_RB_PROD_POS);
  avail = bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA);
  return err ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
