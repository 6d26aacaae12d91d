// Benchmark program "jhash": see bench_jhash() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(jhash)
