// The map and the out-of-bounds read of rodata_const_*, kconfig_const_branch and tests/api's
// libbpf_kconfig: an 8-byte array value that a branch on a `const volatile` global or a __kconfig extern
// reads 64 bytes into, which only a verifier that explores that branch refuses.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

static __always_inline int read_past_value_if(int cond) {
  __u32 key = 0;
  volatile __u8 *v = bpf_map_lookup_elem(&counters, &key);
  if (!v) return 0;
  if (cond) return v[64];  // past the 8-byte value
  return 1;
}
