// verdict: accept
// A __kconfig extern lives in the frozen, BPF_F_RDONLY_PROG ".kconfig" map; a weak one nobody sets reads
// as zero (libbpf), and the kernel folds the load into that constant (bpf_map_direct_read), so the
// branch it guards (libbpf-tools' LINUX_KERNEL_VERSION checks) is dead.
#include "rodata_flags.h"

extern int CONFIG_BPFVM_TEST_UNSET __attribute__((section(".kconfig"), weak));

SEC("socket")
int kconfig_const_branch(struct __sk_buff *skb) {
  return read_past_value_if(CONFIG_BPFVM_TEST_UNSET != 0);
}

char LICENSE[] SEC("license") = "GPL";
