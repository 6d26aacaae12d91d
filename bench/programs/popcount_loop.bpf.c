// Benchmark program "popcount_loop": see bench_popcount_loop() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(popcount_loop)
