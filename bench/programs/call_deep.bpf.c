// Benchmark program "call_deep": see bench_call_deep() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(call_deep)
