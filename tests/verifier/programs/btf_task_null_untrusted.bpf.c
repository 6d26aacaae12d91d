// verdict: accept
// A pointer read out of a kernel object (task->parent) is not known to be non-NULL, so both edges of
// `if (p)` are explored; a trusted one (the helper's result) decides it. Each edge returns 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
  int pid;
  struct task_struct *parent;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_null_untrusted(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  struct task_struct *parent = task->parent;
  if (!parent) return 0;
  return parent->pid & 0;
}

char LICENSE[] SEC("license") = "GPL";
