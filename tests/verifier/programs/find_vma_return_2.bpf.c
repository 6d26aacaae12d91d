// verdict: reject
// error: R0
// A bpf_find_vma callback returns 0 or 1; 2 is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct vm_area_struct;

static long bad_return(struct task_struct *task, struct vm_area_struct *vma, void *data) {
  return 2;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int find_vma_return_2(void *ctx) {
  bpf_find_vma(bpf_get_current_task_btf(), 0x400000, bad_return, 0, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
