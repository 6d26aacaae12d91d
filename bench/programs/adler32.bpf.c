// Benchmark program "adler32": see bench_adler32() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(adler32)
