// Verifier bench: bounded loops the verifier must walk iteration by iteration (nested loops over a
// map value, a loop over the packet, a data-dependent inner loop): few instructions, many processed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ROWS 32
#define COLS 16

struct matrix {
  __u32 cell[ROWS][COLS];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct matrix);
} grid SEC(".maps");

SEC("xdp")
int bounded_loops(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *end = (void *)(long)ctx->data_end;
  __u32 zero = 0;
  struct matrix *m = bpf_map_lookup_elem(&grid, &zero);
  if (!m) return XDP_ABORTED;
  __u64 acc = 0;
  for (int r = 0; r < ROWS; r++) {
    __u32 row = 0;
    for (int c = 0; c < COLS; c++) {
      row += m->cell[r][c] ^ (r * c);
      m->cell[r][c] = row;
    }
    acc += row;
  }
  for (int i = 0; i < 64; i++) {
    if (data + i + 1 > end) break;
    unsigned char b = data[i];
    for (int k = 0; k < 8; k++) acc += (b >> k) & 1;
  }
  return acc & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
