// verdict: accept
// bpf_cgrp_storage_get's cgroup may be NULL (ARG_PTR_TO_BTF_ID_OR_NULL); the helper then returns NULL.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, 32 /* BPF_MAP_TYPE_CGRP_STORAGE */);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} cgroup_values SEC(".maps");

static void *(*cgrp_storage_get)(void *map, void *cgroup, void *value, __u64 flags) = (void *)210;

SEC("tracepoint/syscalls/sys_enter_getpid")
int cgrp_storage_get_null_cgroup(void *ctx) {
  __u64 *v = cgrp_storage_get(&cgroup_values, 0, 0, 0);
  return v ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
