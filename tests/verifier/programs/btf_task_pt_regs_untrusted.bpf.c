// verdict: reject
// error: is not trusted
// A task_struct pointer read out of another task's field (PTR_UNTRUSTED) is no helper argument, even
// after a NULL check: the kernel wants a plain, trusted or RCU kernel object pointer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
  struct task_struct *last_wakee;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_pt_regs_untrusted(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  struct task_struct *wakee = task->last_wakee;
  if (!wakee) return 0;
  return bpf_task_pt_regs(wakee) != 0;
}

char LICENSE[] SEC("license") = "GPL";
