// Benchmark program "sort": see bench_sort() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(sort)
