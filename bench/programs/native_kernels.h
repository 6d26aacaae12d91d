// Native entry points of the benchmark kernels (native_kernels.c): same signature for each, so the
// bench calls them through a function pointer the compiler cannot inline.
#ifndef BPFVM_BENCH_NATIVE_KERNELS_H
#define BPFVM_BENCH_NATIVE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t (*bench_native_fn)(const uint8_t *data, const uint8_t *data_end);

uint32_t bench_native_empty(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_primes(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_memcpy(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_strcmp(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_switch(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_log2(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_map(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_parse(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_checksum(const uint8_t *data, const uint8_t *data_end);

#ifdef __cplusplus
}
#endif

#endif
