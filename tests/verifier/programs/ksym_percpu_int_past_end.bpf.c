// verdict: reject
// error: the object has 4 bytes
// The read-only memory bpf_this_cpu_ptr gives for an int is 4 bytes: byte 4 is past it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const int bpf_prog_active __ksym;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ksym_percpu_int_past_end(void *ctx) {
  const volatile char *active = (const volatile char *)bpf_this_cpu_ptr(&bpf_prog_active);
  return active[4];
}

char LICENSE[] SEC("license") = "GPL";
