// verdict: accept
// bpf_get_current_task_btf() gives a trusted task_struct pointer (PTR_TO_BTF_ID): a scalar field reads
// as a number, a pointer field (mm) as another kernel object pointer, which may be NULL and may itself be
// read after the check. Field offsets come from the running kernel's BTF (CO-RE).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct mm_struct {
  int map_count;
} __attribute__((preserve_access_index));

struct task_struct {
  int pid;
  struct mm_struct *mm;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_read(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  int n = task->pid;
  struct mm_struct *mm = task->mm;
  if (mm) n += mm->map_count;
  return n & 0;
}

char LICENSE[] SEC("license") = "GPL";
