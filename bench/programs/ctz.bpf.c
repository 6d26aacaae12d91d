// Benchmark program "ctz": see bench_ctz() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(ctz)
