// verdict: reject
// error: only read is supported
// The vm_area_struct a bpf_find_vma callback gets is a kernel object: stores into it are refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct vm_area_struct {
  unsigned long vm_start;
} __attribute__((preserve_access_index));

static long write_vma(struct task_struct *task, struct vm_area_struct *vma, void *data) {
  vma->vm_start = 0;
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int find_vma_vma_write(void *ctx) {
  bpf_find_vma(bpf_get_current_task_btf(), 0x400000, write_vma, 0, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
