// verdict: reject
// error: access beyond struct
// A load past the end of the kernel struct is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_beyond(void *ctx) {
  const volatile char *task = (const volatile char *)bpf_get_current_task_btf();
  return task[1 << 20];
}

char LICENSE[] SEC("license") = "GPL";
