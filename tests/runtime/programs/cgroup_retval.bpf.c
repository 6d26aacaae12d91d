// bpf_get_retval / bpf_set_retval from a cgroup/sock_create program: `mode` (set by the host) picks
// what the program sets and returns; what it read lands in `seen`, and the socket() call's errno (the
// kernel) or RunOutput::cgroup_retval (bpfvm) shows what the hook gave the syscall.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define EACCES 13

struct {
  __u32 mode;
  __u32 calls;
  __s64 initial;  // bpf_get_retval before any set
  __s64 after;    // bpf_get_retval after the set
  __s64 set_result;
} seen;

SEC("cgroup/sock_create")
int sock_create_retval(struct bpf_sock *sk) {
  seen.calls++;
  seen.initial = bpf_get_retval();
  switch (seen.mode) {
    case 0: return 1;  // allowed
    case 1: return 0;  // refused: -EPERM
    case 2: seen.set_result = bpf_set_retval(-EACCES); seen.after = bpf_get_retval(); return 0;
    case 3: seen.set_result = bpf_set_retval(-EACCES); seen.after = bpf_get_retval(); return 1;
    case 4: seen.set_result = bpf_set_retval(0); seen.after = bpf_get_retval(); return 0;
    case 5: seen.set_result = bpf_set_retval(-5000); seen.after = bpf_get_retval(); return 0;  // not an errno
    case 6: seen.set_result = bpf_set_retval(-4095); seen.after = bpf_get_retval(); return 0;  // MAX_ERRNO
    default: seen.set_result = bpf_set_retval(-EACCES); bpf_set_retval(0); seen.after = bpf_get_retval(); return 1;
  }
}

char _license[] SEC("license") = "GPL";
