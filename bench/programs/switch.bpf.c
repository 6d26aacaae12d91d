// Benchmark program "switch": see bench_switch() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(switch)
