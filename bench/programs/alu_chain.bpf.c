// Benchmark program "alu_chain": see bench_alu_chain() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(alu_chain)
