// BENCH_XDP(name): the XDP program `xdp_<name>` that runs bench_<name>() over the packet and returns its
// result as the XDP return value (BPF_PROG_TEST_RUN reports it, so every engine's answer is checked).
#ifndef BPFVM_BENCH_XDP_H
#define BPFVM_BENCH_XDP_H

#include "bench_kernels.h"

#define BENCH_XDP(name)                                                         \
  SEC("xdp") int xdp_##name(struct xdp_md *ctx) {                                   \
    const __u8 *data = (const __u8 *)(long)ctx->data;                           \
    const __u8 *data_end = (const __u8 *)(long)ctx->data_end;                   \
    return bench_##name(data, data_end);                                        \
  }                                                                             \
  char _license[] SEC("license") = "GPL";

#endif
