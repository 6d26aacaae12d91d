// verdict: reject
// bpf_task_storage_get's initial value (ARG_PTR_TO_MAP_VALUE_OR_NULL) must hold value_size (16) bytes:
// an 8-byte stack variable is too small.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct value {
  __u64 calls;
  __u64 first;
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct value);
} task_values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int task_storage_get_short_value(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  volatile __u64 small = 3;
  struct value *v = bpf_task_storage_get(&task_values, task, (void *)&small, BPF_LOCAL_STORAGE_GET_F_CREATE);
  return v ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
