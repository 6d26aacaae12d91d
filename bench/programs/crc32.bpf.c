// Benchmark program "crc32": see bench_crc32() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(crc32)
