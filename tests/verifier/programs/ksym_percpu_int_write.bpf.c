// verdict: reject
// error: read-only
// bpf_this_cpu_ptr's memory for a non-struct variable is read-only (PTR_TO_MEM | MEM_RDONLY).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const int bpf_prog_active __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_percpu_int_write(void *ctx) {
  int *active = (int *)bpf_this_cpu_ptr(&bpf_prog_active);
  *active = 0;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
