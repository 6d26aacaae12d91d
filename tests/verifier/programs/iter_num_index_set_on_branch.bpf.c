// verdict: reject
// error: invalid access to map value
// The iterator rule's loop body (verifier.cpp: iter_loop_converged marks the checkpoints between the
// converged call and the earlier iteration `loop_body`, compared with every live register). The index
// k is read at the top of the body; a branch taken after the read sets k = 1000, so the next iteration
// would read past the value. The path that keeps k is explored first: it stores a state at the
// `goto +0` target below the branch (8 insns and 2 jumps after the last stored state, so one is
// stored there) and then converges at bpf_iter_num_next, which ends it before the next iteration's
// read: that state's marks never learn that k is needed. The path with k = 1000 reaches the same
// insn next; pruned by the incomplete marks it would be accepted (seen 2026-12-07 with the loop_body
// assignment removed: "accepted (214 insns processed, 21 states)"), compared whole it is refused.
#include "iter_value.h"
SEC("xdp")
int iter_num_index_set_on_branch(struct xdp_md *xdp) {
  struct bpf_iter_num it;
  __u32 *arr = iter_value();
  __u32 k = 0, sum = 0;
  if (!arr) return XDP_ABORTED;
  ITER_REPEAT(it, 4) {
    sum += arr[k];
    __u32 r = bpf_get_prandom_u32() & 1;
    // Fall through (explored first) keeps k; the taken branch sets it; eight insns after the join, a
    // goto whose target stores a state.
    asm volatile("if %[r] == 0 goto 1f; goto 2f; 1: %[k] = 1000; 2:"
                 "%[r] |= 0; %[r] |= 0; %[r] |= 0; %[r] |= 0; %[r] |= 0; %[r] |= 0; %[r] |= 0; %[r] |= 0; goto +0;"
                 : [k] "+r"(k), [r] "+r"(r));
  }
  bpf_iter_num_destroy(&it);
  arr[0] = sum;
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
