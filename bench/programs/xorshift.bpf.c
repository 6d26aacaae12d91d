// Benchmark program "xorshift": see bench_xorshift() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(xorshift)
