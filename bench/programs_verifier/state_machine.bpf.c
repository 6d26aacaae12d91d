// Verifier bench: a byte-at-a-time protocol state machine over up to 128 packet bytes (a bounded loop
// whose body branches 8 ways through a subprogram). The machine's state lives in a map value, so the
// paths through one iteration converge and pruning decides the cost (kept in registers, the distinct
// token counts would make the path count exponential: both verifiers give up). The kernel accepts it
// (~125k insns processed); bpfvm too (~37k, 2026-12-02; it stopped at its 1M-insn limit before).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct machine {
  __u32 state, tokens;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct machine);
} machine SEC(".maps");

static __attribute__((noinline)) int classify(unsigned b) {
  if (b < 0x20) return 0;
  if (b < 0x30) return 1;
  if (b < 0x3a) return 2;
  if (b < 0x41) return 3;
  if (b < 0x5b) return 4;
  if (b < 0x61) return 5;
  if (b < 0x7b) return 6;
  return 7;
}

static __attribute__((noinline)) void bump(__u32 state) {
  __u32 k = state & 7;
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (v) *v += 1;
}

SEC("xdp")
int state_machine(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *end = (void *)(long)ctx->data_end;
  __u32 zero = 0;
  struct machine *m = bpf_map_lookup_elem(&machine, &zero);
  if (!m) return XDP_ABORTED;
  for (int i = 0; i < 128; i++) {
    if (data + i + 1 > end) break;
    int cls = classify(data[i]);
    switch (m->state) {
      case 0: m->state = cls == 2 ? 1 : cls >= 4 ? 2 : 0; break;
      case 1: if (cls != 2) { m->tokens++; m->state = 0; } break;
      case 2: if (cls < 4) { m->tokens++; m->state = cls == 2 ? 1 : 0; } break;
      default: m->state = 0;
    }
    if ((i & 31) == 31) bump(m->state);
  }
  bump(m->tokens);
  return m->tokens & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
