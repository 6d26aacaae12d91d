// verdict: accept
// bpf_find_vma(task, addr, callback, ctx, 0): the callback gets the task, the vm_area_struct holding
// addr (a kernel object pointer whose fields read as numbers) and the caller's ctx (here its stack),
// and returns 0 or 1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct vm_area_struct {
  unsigned long vm_start;
} __attribute__((preserve_access_index));

static long vma_start(struct task_struct *task, struct vm_area_struct *vma, void *data) {
  *(unsigned long *)data = vma->vm_start;
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int find_vma_callback(void *ctx) {
  unsigned long start = 0;
  bpf_find_vma(bpf_get_current_task_btf(), 0x400000, vma_start, &start, 0);
  return start != 0;
}

char LICENSE[] SEC("license") = "GPL";
