// verdict: reject
// error: cannot access a pointer member partially
// Half of a pointer member (task_struct.mm) is refused: pointer fields are loaded whole (btf_struct_walk).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct mm_struct;
struct task_struct {
  struct mm_struct *mm;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_partial_pointer(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  return *(volatile unsigned int *)&task->mm;
}

char LICENSE[] SEC("license") = "GPL";
