// Benchmark program "rotate": see bench_rotate() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(rotate)
