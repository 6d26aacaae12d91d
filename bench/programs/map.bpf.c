// Benchmark program "map": see bench_map() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(map)
