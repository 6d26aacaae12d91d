// verdict: reject
// error: bpf_get_func_arg_cnt#185
// bpf_get_func_arg_cnt is for programs with a trampoline (fentry, fexit, fmod_ret); a tp_btf program
// may not call it (6.18: "program of this type cannot use helper").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int tp_btf_get_func_arg_cnt(unsigned long long *ctx) {
  return (int)bpf_get_func_arg_cnt(ctx);
}

char LICENSE[] SEC("license") = "GPL";
