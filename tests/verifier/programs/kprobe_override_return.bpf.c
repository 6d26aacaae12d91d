// verdict: reject
// error: bpf_override_return#58
// bpf_override_return exists for kprobes only in kernels built with CONFIG_BPF_KPROBE_OVERRIDE (it
// needs CONFIG_FUNCTION_ERROR_INJECTION); this machine's 6.18 has neither, and refuses the call
// ("program of this type cannot use helper"), as bpfvm does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_sys_openat2")
int kprobe_override_return(void *ctx) {
  return (int)bpf_override_return(ctx, -1);
}

char LICENSE[] SEC("license") = "GPL";
