// verdict: reject
// error: a pointer to another kernel struct
// bpf_task_pt_regs wants a task_struct (its arg1_btf_id); a pt_regs pointer is another struct.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_pt_regs_wrong_struct(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  void *regs = (void *)bpf_task_pt_regs(task);
  return bpf_task_pt_regs((struct task_struct *)regs) != 0;
}

char LICENSE[] SEC("license") = "GPL";
