// Benchmark program "bswap": see bench_bswap() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(bswap)
