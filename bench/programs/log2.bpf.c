// Benchmark program "log2": see bench_log2() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(log2)
