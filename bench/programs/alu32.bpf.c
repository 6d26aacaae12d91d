// Benchmark program "alu32": see bench_alu32() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(alu32)
