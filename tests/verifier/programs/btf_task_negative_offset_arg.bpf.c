// verdict: reject
// error: R1 type=
// A task_struct pointer moved before its start is no helper argument (the kernel refuses a negative
// offset of a kernel object pointer passed to a helper).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct;

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_negative_offset_arg(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  return bpf_task_pt_regs((struct task_struct *)((char *)task - 8)) != 0;
}

char LICENSE[] SEC("license") = "GPL";
