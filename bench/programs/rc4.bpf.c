// Benchmark program "rc4": see bench_rc4() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(rc4)
