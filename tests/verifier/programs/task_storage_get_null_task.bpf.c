// verdict: accept
// bpf_task_storage_get's task may be NULL (ARG_PTR_TO_BTF_ID_OR_NULL); the helper then returns NULL.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} task_values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int task_storage_get_null_task(void *ctx) {
  __u64 *v = bpf_task_storage_get(&task_values, 0, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  return v ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
