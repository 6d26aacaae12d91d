// Benchmark program "signed": see bench_signed() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(signed)
