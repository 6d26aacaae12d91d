// One helper call reached with a different map on each path (issue #15 "map_ptr mixed base"): the
// kernel keeps one map pointer per call insn and poisons it when a second arrives, calling the generic
// helper with the map in r1 (r2 for bpf_tail_call) at run time. An update, a lookup and a tail call
// here each take whichever map the packet picks; the lookup's value, the tail call's target and the
// maps' contents across packets must be the kernel's.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
  __u64 a, b;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} arr SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, struct pair);
} hsh SEC(".maps");

int target_a(struct xdp_md *ctx);
int target_b(struct xdp_md *ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, int(void *));
} jmp_a SEC(".maps") = {
    .values = {[1] = (void *)&target_a},
};

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, int(void *));
} jmp_b SEC(".maps") = {
    .values = {[2] = (void *)&target_b},
};

static __always_inline int stamp(struct xdp_md *ctx, __u8 with) {
  __u8 *data = (void *)(long)ctx->data;
  if ((void *)(data + 16) > (void *)(long)ctx->data_end) return -1;
  data[8] ^= with;
  return data[0];
}

SEC("xdp")
int target_a(struct xdp_md *ctx) {
  return stamp(ctx, 0xa1) < 0 ? XDP_ABORTED : XDP_TX;
}

SEC("xdp")
int target_b(struct xdp_md *ctx) {
  return stamp(ctx, 0xb2) < 0 ? XDP_ABORTED : XDP_DROP;
}

SEC("xdp")
int merged(struct xdp_md *ctx) {
  __u8 *data = (void *)(long)ctx->data;
  if ((void *)(data + 16) > (void *)(long)ctx->data_end) return XDP_ABORTED;
  __u32 key = data[1] & 3, probe = data[9] & 3;
  // A lookup whose map lddw is the last write of r1 before the call, on both paths: a JIT that took
  // the handle from an lddw in an earlier block would inline the wrong map on one of them.
  __u64 *first = bpf_map_lookup_elem(data[12] & 1 ? (void *)&hsh : (void *)&arr, &probe);
  data[13] = first ? (__u8)(*first + 7) : 0xcc;
  struct pair val = {data[2] | (__u64)data[3] << 32, data[10]};
  // One call site per helper, the map chosen per packet (no common subexpression clang could split).
  void *m = data[0] & 1 ? (void *)&arr : (void *)&hsh;
  if (data[11] & 1) bpf_map_update_elem(m, &key, &val, BPF_ANY);
  __u64 *v = bpf_map_lookup_elem(m, &probe);
  data[4] = v ? (__u8)(*v * 3 + 1) : 0xee;
  data[5] = v ? (__u8)(*v >> 32) : 0xdd;
  void *table = data[6] & 1 ? (void *)&jmp_a : (void *)&jmp_b;
  bpf_tail_call(ctx, table, data[7] & 3);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
