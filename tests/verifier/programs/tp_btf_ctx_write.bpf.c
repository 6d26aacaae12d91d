// verdict: reject
// error: invalid bpf_context access
// A tracing context is read only.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int tp_btf_ctx_write(unsigned long long *ctx) {
  ctx[3] = 0;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
