// Benchmark program "fletcher": see bench_fletcher() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(fletcher)
