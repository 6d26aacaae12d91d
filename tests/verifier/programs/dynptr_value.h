// The dynptr_*.bpf.c programs' data: bpf_dynptr_from_mem takes only a map value, so each builds its
// local dynptr over the one 32-byte value of this array.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64[4]);
} values SEC(".maps");

static __always_inline __u64 *dynptr_value(void) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&values, &key);
}
