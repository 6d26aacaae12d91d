// Benchmark program "matmul": see bench_matmul() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(matmul)
