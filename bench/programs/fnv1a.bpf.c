// Benchmark program "fnv1a": see bench_fnv1a() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(fnv1a)
