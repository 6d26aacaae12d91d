// verdict: reject
// bpf_task_storage_get returns a map value or NULL: a store without the NULL check is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} task_values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int task_storage_get_no_null_check(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  __u64 *v = bpf_task_storage_get(&task_values, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  *v = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
