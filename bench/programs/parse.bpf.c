// Benchmark program "parse": see bench_parse() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(parse)
