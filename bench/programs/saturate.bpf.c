// Benchmark program "saturate": see bench_saturate() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(saturate)
