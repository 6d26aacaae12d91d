// Benchmark program "murmur": see bench_murmur() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(murmur)
