// Benchmark program "strlen": see bench_strlen() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(strlen)
