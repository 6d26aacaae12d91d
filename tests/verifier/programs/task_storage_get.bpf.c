// verdict: accept
// bpf_task_storage_get on the current task (bpf_get_current_task_btf: a trusted task_struct) with
// BPF_LOCAL_STORAGE_GET_F_CREATE and an initial value; the value is written under the NULL check, then
// bpf_task_storage_delete.
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
int task_storage_get(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  struct value init = {.calls = 0, .first = 7};
  struct value *v = bpf_task_storage_get(&task_values, task, &init, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (v) v->calls++;
  bpf_task_storage_delete(&task_values, task);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
