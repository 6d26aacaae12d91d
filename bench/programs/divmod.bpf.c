// Benchmark program "divmod": see bench_divmod() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(divmod)
