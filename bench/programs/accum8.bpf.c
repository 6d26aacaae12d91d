// Benchmark program "accum8": see bench_accum8() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(accum8)
