// Benchmark program "spill16": see bench_spill16() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(spill16)
