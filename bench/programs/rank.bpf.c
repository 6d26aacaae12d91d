// Benchmark program "rank": see bench_rank() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(rank)
