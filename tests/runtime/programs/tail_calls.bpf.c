// Tail calls through a prog_array filled by an initialiser: entry → stage1 → stage2 → stage3, each
// stage stamping the packet and counting in a global; empty slots and out-of-range indices fall
// through to the caller's next instruction, as the kernel documents.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int stage1(struct xdp_md *ctx);
int stage2(struct xdp_md *ctx);
int stage3(struct xdp_md *ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __array(values, int(void *));
} jmp_table SEC(".maps") = {
    .values = {[1] = (void *)&stage1, [2] = (void *)&stage2, [3] = (void *)&stage3},
};

__u64 hits[4];
__u64 fallthrough;

static __always_inline int stamp(struct xdp_md *ctx, int stage) {
  void *data_end = (void *)(long)ctx->data_end;
  __u8 *data = (void *)(long)ctx->data;
  if ((void *)(data + 4) > data_end) return -1;
  data[stage] ^= (__u8)(0x11 * (stage + 1));
  hits[stage & 3]++;
  return data[0];
}

SEC("xdp")
int stage3(struct xdp_md *ctx) {
  int b = stamp(ctx, 3);
  return b < 0 ? XDP_ABORTED : (b & 1 ? XDP_TX : XDP_PASS);
}

SEC("xdp")
int stage2(struct xdp_md *ctx) {
  int b = stamp(ctx, 2);
  if (b < 0) return XDP_ABORTED;
  if (b & 2) bpf_tail_call(ctx, &jmp_table, 3);
  return XDP_DROP;
}

SEC("xdp")
int stage1(struct xdp_md *ctx) {
  int b = stamp(ctx, 1);
  if (b < 0) return XDP_ABORTED;
  bpf_tail_call(ctx, &jmp_table, 2);
  return XDP_ABORTED;
}

SEC("xdp")
int entry(struct xdp_md *ctx) {
  int b = stamp(ctx, 0);
  if (b < 0) return XDP_DROP;
  // Slot 1 chains; slots 4..7 are empty and 9 is out of range: both fall through.
  __u32 idx = b & 4 ? 1 : (b & 8 ? 5 : 9);
  bpf_tail_call(ctx, &jmp_table, idx);
  fallthrough++;
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
