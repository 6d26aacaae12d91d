// Benchmark program "primes": see bench_primes() in bench_kernels.h.
#include "bench_xdp.h"

BENCH_XDP(primes)
