// Benchmark program "checksum": see bench_checksum() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(checksum)
