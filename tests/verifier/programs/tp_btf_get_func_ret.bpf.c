// verdict: reject
// error: bpf_get_func_ret#184
// bpf_get_func_ret is for programs with a trampoline (fexit, fmod_ret; fentry gets -EOPNOTSUPP); a
// tp_btf program may not call it (6.18: "program of this type cannot use helper").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_switch")
int tp_btf_get_func_ret(unsigned long long *ctx) {
  __u64 v = 0;
  return (int)bpf_get_func_ret(ctx, &v) + (int)v;
}

char LICENSE[] SEC("license") = "GPL";
