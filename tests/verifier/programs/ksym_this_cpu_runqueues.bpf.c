// verdict: accept
// A typed __ksym (runqueues, a per-CPU struct rq) resolves against the kernel's BTF to lddw
// BPF_PSEUDO_BTF_ID; bpf_this_cpu_ptr turns the per-CPU pointer into this CPU's struct rq, a kernel
// object pointer whose fields read as numbers.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
  int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_this_cpu_runqueues(void *ctx) {
  const struct rq *rq = bpf_this_cpu_ptr(&runqueues);
  return rq->cpu;
}

char LICENSE[] SEC("license") = "GPL";
