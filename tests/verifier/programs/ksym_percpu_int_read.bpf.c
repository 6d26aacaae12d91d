// verdict: accept
// A per-CPU int (bpf_prog_active): bpf_this_cpu_ptr gives read-only memory of the int's 4 bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const int bpf_prog_active __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_percpu_int_read(void *ctx) {
  const int *active = bpf_this_cpu_ptr(&bpf_prog_active);
  return *active;
}

char LICENSE[] SEC("license") = "GPL";
