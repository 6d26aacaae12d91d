// bpf_user_ringbuf_drain from XDP, for test_user_ringbuf: the packet's first 4 bytes are drain's
// flags. Each sample says what its callback does: byte 0 bit 0 = stop after it (return 1), bit 1 =
// drain the same map again from inside (-EBUSY); byte 1 = its slot (0..15; 15 when shorter than 2
// bytes). The callback records in `seen` (8 words per slot) what bpf_dynptr_read / data / write
// answer on its dynptr; the main program records drain's result and the callback count in `results`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 128);
  __type(key, __u32);
  __type(value, __s64);
} seen SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __s64);
} results SEC(".maps");

struct drain_ctx {
  __u64 calls;
};

static __always_inline void put(void *map, __u32 key, __s64 value) { bpf_map_update_elem(map, &key, &value, BPF_ANY); }

static long inner(struct bpf_dynptr *dynptr, void *ctx) { return 0; }

static long on_sample(struct bpf_dynptr *dynptr, struct drain_ctx *ctx) {
  __u8 head[2] = {0, 15};
  __u64 words[2] = {0, 0};
  __u8 mark = 0xee;
  __u32 slot;
  ctx->calls++;
  bpf_dynptr_read(head, sizeof head, dynptr, 0, 0);
  slot = (head[1] & 15) * 8;
  put(&seen, slot + 0, bpf_dynptr_read(words, 16, dynptr, 0, 0));
  words[0] = 0;
  put(&seen, slot + 1, bpf_dynptr_read(words, 8, dynptr, 0, 0));
  put(&seen, slot + 2, words[0]);
  put(&seen, slot + 3, bpf_dynptr_read(words, 1, dynptr, 0, 1));
  put(&seen, slot + 4, bpf_dynptr_read(words, 1, dynptr, 0x7fffffff, 0));
  __u8 *bytes = bpf_dynptr_data(dynptr, 2, 4);
  put(&seen, slot + 5, bytes ? bytes[0] | bytes[1] << 8 | bytes[2] << 16 | (__s64)bytes[3] << 24 : -1);
  put(&seen, slot + 6, bpf_dynptr_write(dynptr, 2, &mark, 1, 0));
  if (head[0] & 2) put(&seen, slot + 7, bpf_user_ringbuf_drain(&samples, inner, NULL, 0));
  return head[0] & 1;
}

SEC("xdp")
int drain(struct xdp_md *xdp) {
  void *data = (void *)(long)xdp->data;
  void *data_end = (void *)(long)xdp->data_end;
  struct drain_ctx ctx = {0};
  __u32 flags;
  if (data + 4 > data_end) return XDP_ABORTED;
  __builtin_memcpy(&flags, data, 4);
  long n = bpf_user_ringbuf_drain(&samples, on_sample, &ctx, flags);
  put(&results, 0, n);
  put(&results, 1, ctx.calls);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
