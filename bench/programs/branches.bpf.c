// Benchmark program "branches": see bench_branches() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(branches)
