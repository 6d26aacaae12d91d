// Benchmark program "binary_search": see bench_binary_search() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(binary_search)
