// verdict: reject
// error: expected ptr_to_btf_id
// A number is no kernel object argument (ARG_PTR_TO_BTF_ID).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_pt_regs_scalar(void *ctx) {
  return bpf_task_pt_regs((struct task_struct *)bpf_get_current_task()) != 0;
}

char LICENSE[] SEC("license") = "GPL";
