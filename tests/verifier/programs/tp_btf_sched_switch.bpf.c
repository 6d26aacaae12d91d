// verdict: accept
// tp_btf (BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP): the context is u64 args[] of the tracepoint's
// btf_trace_sched_switch prototype (preempt, prev, next, prev_state); prev is a task_struct pointer
// whose fields read through the kernel's BTF, prev_state a number read in its low 4 bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
  int pid;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_switch")
int tp_btf_sched_switch(unsigned long long *ctx) {
  struct task_struct *prev = (struct task_struct *)ctx[1];
  unsigned int state = *(unsigned int *)&ctx[3];
  return (prev->pid + state) & 0;
}

char LICENSE[] SEC("license") = "GPL";
