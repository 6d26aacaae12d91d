// The __kconfig externs libbpf answers itself whatever the object's .config: LINUX_KERNEL_VERSION,
// LINUX_HAS_BPF_COOKIE (libbpf's usdt.bpf.h reads it) and LINUX_HAS_SYSCALL_WRAPPER (BPF_KSYSCALL).
// The frozen .kconfig value decides the branch at load time: a missing or false LINUX_HAS_BPF_COOKIE
// leaves the read past the 8-byte map value live, which the verifier refuses. LINUX_HAS_SYSCALL_WRAPPER
// verifies either way (libbpf 1.1 probes it with a kprobe, which fails where tracefs is missing: 0).
#include "../../verifier/programs/rodata_flags.h"

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;

SEC("kprobe/do_sys_openat2")
int libbpf_kconfig(void *ctx) {
  const int ok = read_past_value_if(!LINUX_HAS_BPF_COOKIE || LINUX_KERNEL_VERSION < KERNEL_VERSION(4, 19, 0));
  return LINUX_HAS_SYSCALL_WRAPPER ? ok + (bpf_get_attach_cookie(ctx) == 0) : ok;
}

char LICENSE[] SEC("license") = "GPL";
