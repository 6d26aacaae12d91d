// verdict: accept
// bpf_per_cpu_ptr(&runqueues, cpu) after a NULL check reads that CPU's struct rq.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
  int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_per_cpu_ptr_checked(void *ctx) {
  const struct rq *rq = bpf_per_cpu_ptr(&runqueues, bpf_get_smp_processor_id());
  if (!rq) return 0;
  return rq->cpu;
}

char LICENSE[] SEC("license") = "GPL";
