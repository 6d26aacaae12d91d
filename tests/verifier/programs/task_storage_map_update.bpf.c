// verdict: reject
// error: cannot pass map_type 29 into func bpf_map_update_elem
// bpf_map_update_elem on a BPF_MAP_TYPE_TASK_STORAGE: refused as for every local-storage map (the
// kernel's check_map_func_compatibility: only bpf_task_storage_get/delete and bpf_kptr_xchg).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, long);
} task_stor SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int task_storage_map_update(void *ctx) {
  int key = 0;
  long v = 1;
  return bpf_map_update_elem(&task_stor, &key, &v, BPF_ANY);
}

char LICENSE[] SEC("license") = "GPL";
