// Benchmark program "bsearch": see bench_bsearch() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(bsearch)
