// Benchmark program "ipv6_ext": see bench_ipv6_ext() in bench_kernels_classes.h.
#include "bench_xdp.h"

BENCH_XDP(ipv6_ext)
