// Benchmark program "stride": see bench_stride() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(stride)
