// verdict: reject
// error: invalid bpf_context access
// sched_switch has four arguments: args[4] is past the context (btf_ctx_access).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int tp_btf_past_args(unsigned long long *ctx) {
  return *(volatile unsigned long long *)&ctx[4] != 0;
}

char LICENSE[] SEC("license") = "GPL";
