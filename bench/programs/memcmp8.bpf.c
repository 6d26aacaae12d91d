// Benchmark program "memcmp8": see bench_memcmp8() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(memcmp8)
