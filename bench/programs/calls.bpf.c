// Benchmark program "calls": see bench_calls() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(calls)
