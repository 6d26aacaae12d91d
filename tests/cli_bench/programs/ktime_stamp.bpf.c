// An XDP program whose packet and map depend on when it runs: it stamps bpf_ktime_get_ns() into the
// packet's first 8 bytes and into an array map, and passes the packet. Its verdict is the same on
// every engine; its packet out and its map never are — what `bpfvm bench` must report as a disagreement.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} stamps SEC(".maps");

SEC("xdp")
int ktime_stamp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u64 now = bpf_ktime_get_ns();
  __u32 key = 0;
  __u64 *slot = bpf_map_lookup_elem(&stamps, &key);
  if (slot) *slot = now;
  if (data + 8 <= data_end) __builtin_memcpy(data, &now, 8);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
