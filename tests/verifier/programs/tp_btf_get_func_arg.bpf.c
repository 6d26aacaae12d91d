// verdict: reject
// error: bpf_get_func_arg#183
// bpf_get_func_arg is for programs with a trampoline (fentry, fexit, fmod_ret: bpf_prog_has_trampoline);
// a tp_btf program may not call it (6.18: "program of this type cannot use helper").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int tp_btf_get_func_arg(unsigned long long *ctx) {
  __u64 v = 0;
  return (int)bpf_get_func_arg(ctx, 0, &v) + (int)v;
}

char LICENSE[] SEC("license") = "GPL";
