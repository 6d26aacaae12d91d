// Benchmark program "nested": see bench_nested() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(nested)
