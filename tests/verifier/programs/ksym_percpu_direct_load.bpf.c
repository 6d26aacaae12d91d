// verdict: reject
// error: per-CPU memory
// A per-CPU variable's own pointer (MEM_PERCPU) is not loaded through: bpf_this_cpu_ptr or
// bpf_per_cpu_ptr gives a CPU's copy.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
  int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_percpu_direct_load(void *ctx) {
  return runqueues.cpu;
}

char LICENSE[] SEC("license") = "GPL";
