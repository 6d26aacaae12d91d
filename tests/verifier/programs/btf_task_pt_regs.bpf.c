// verdict: accept
// bpf_task_pt_regs takes the trusted task_struct bpf_get_current_task_btf gives (ARG_PTR_TO_BTF_ID) and
// returns the task's trusted pt_regs, whose fields read as numbers.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pt_regs {
  unsigned long ip;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_pt_regs(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
  return regs->ip & 0;
}

char LICENSE[] SEC("license") = "GPL";
