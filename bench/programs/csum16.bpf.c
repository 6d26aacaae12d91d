// Benchmark program "csum16": see bench_csum16() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(csum16)
