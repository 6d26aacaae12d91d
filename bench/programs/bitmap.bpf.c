// Benchmark program "bitmap": see bench_bitmap() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(bitmap)
