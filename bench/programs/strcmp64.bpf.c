// Benchmark program "strcmp64": see bench_strcmp64() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(strcmp64)
