// verdict: accept
// bpf_task_storage_delete's task may be NULL too (ARG_PTR_TO_BTF_ID_OR_NULL, measured on 6.18: the
// kernel accepts it; the helper returns -EINVAL).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} task_values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int task_storage_delete_null_task(void *ctx) {
  return bpf_task_storage_delete(&task_values, 0);
}

char LICENSE[] SEC("license") = "GPL";
