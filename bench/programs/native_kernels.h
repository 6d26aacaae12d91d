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
uint32_t bench_native_branches(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_popcount_loop(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_calls(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_strcmp64(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_accum8(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_mixed(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_csum16(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_alu_chain(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_alu32(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_divmod(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_murmur(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_fnv1a(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_fletcher(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_jhash(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_rotate(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_bswap(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_strlen(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_saturate(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_stride(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_adler32(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_spill16(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_nested(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_sort(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_rank(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_xorshift(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_swar(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_bitmap(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_ctz(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_signed(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_call_deep(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_rc4(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_matmul(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_memcmp8(const uint8_t *data, const uint8_t *data_end);
uint32_t bench_native_binary_search(const uint8_t *data, const uint8_t *data_end);

#ifdef __cplusplus
}
#endif

#endif
