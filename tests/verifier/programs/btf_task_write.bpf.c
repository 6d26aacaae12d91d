// verdict: reject
// error: only read is supported
// A kernel object pointer is read only: a store through it is refused (the kernel's check_ptr_to_btf_access).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
  int pid;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_write(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  task->pid = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
