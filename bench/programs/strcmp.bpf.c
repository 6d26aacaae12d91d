// Benchmark program "strcmp": see bench_strcmp() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(strcmp)
