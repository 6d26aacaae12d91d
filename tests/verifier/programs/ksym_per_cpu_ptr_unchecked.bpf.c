// verdict: reject
// error: may be null
// bpf_per_cpu_ptr returns NULL for a CPU that does not exist: a load needs a check first.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
  int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_per_cpu_ptr_unchecked(void *ctx) {
  const struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);
  return rq->cpu;
}

char LICENSE[] SEC("license") = "GPL";
