// Benchmark program "mixed": see bench_mixed() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(mixed)
