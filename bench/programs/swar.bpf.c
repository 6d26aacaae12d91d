// Benchmark program "swar": see bench_swar() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(swar)
