// Benchmark program "memcpy": see bench_memcpy() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(memcpy)
