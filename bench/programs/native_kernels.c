// The benchmark kernels compiled natively (the "native C" column), plus the host tables that stand
// in for the BPF maps of bench_map(): a plain array and a linear-probing hash table.
#include "native_kernels.h"

#include "bench_kernels.h"

static __u64 array_values[BENCH_ARRAY_ENTRIES];

struct hash_slot {
  __u32 used, key;
  __u64 value;
};
static struct hash_slot hash_slots[2 * BENCH_HASH_ENTRIES];  // power of two, at most half full

__u64 *bench_native_array_lookup(const __u32 *key) {
  return *key < BENCH_ARRAY_ENTRIES ? &array_values[*key] : 0;
}

static __u32 hash_index(__u32 key) { return (key * 0x9e3779b1u) >> 21; }  // 11 bits: 2048 slots

__u64 *bench_native_hash_lookup(const __u32 *key) {
  for (__u32 i = hash_index(*key);; i = (i + 1) & (2 * BENCH_HASH_ENTRIES - 1)) {
    if (!hash_slots[i].used) return 0;
    if (hash_slots[i].key == *key) return &hash_slots[i].value;
  }
}

long bench_native_hash_insert(const __u32 *key, const __u64 *value) {
  for (__u32 i = hash_index(*key);; i = (i + 1) & (2 * BENCH_HASH_ENTRIES - 1)) {
    if (!hash_slots[i].used || hash_slots[i].key == *key) {
      hash_slots[i].used = 1;
      hash_slots[i].key = *key;
      hash_slots[i].value = *value;
      return 0;
    }
  }
}

#define NATIVE(name) \
  uint32_t bench_native_##name(const uint8_t *data, const uint8_t *data_end) { return bench_##name(data, data_end); }

uint32_t bench_native_empty(const uint8_t *data, const uint8_t *data_end) {
  (void)data;
  (void)data_end;
  return 2;  // XDP_PASS
}
NATIVE(primes)
NATIVE(memcpy)
NATIVE(strcmp)
NATIVE(switch)
NATIVE(log2)
NATIVE(map)
NATIVE(parse)
NATIVE(checksum)
NATIVE(branches)
NATIVE(popcount_loop)
NATIVE(calls)
NATIVE(strcmp64)
NATIVE(accum8)
NATIVE(mixed)
NATIVE(csum16)
NATIVE(alu_chain)
NATIVE(alu32)
NATIVE(divmod)
NATIVE(murmur)
NATIVE(fnv1a)
NATIVE(fletcher)
NATIVE(jhash)
NATIVE(rotate)
NATIVE(bswap)
NATIVE(strlen)
NATIVE(saturate)
NATIVE(stride)
NATIVE(adler32)
NATIVE(spill16)
NATIVE(nested)
NATIVE(sort)
NATIVE(rank)
NATIVE(xorshift)
NATIVE(swar)
NATIVE(bitmap)
NATIVE(ctz)
NATIVE(signed)
NATIVE(call_deep)
NATIVE(rc4)
NATIVE(matmul)
NATIVE(memcmp8)
NATIVE(binary_search)
