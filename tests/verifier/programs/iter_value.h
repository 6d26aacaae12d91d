// The iter_num_*.bpf.c programs' data: one array value of 16 u32 their loops read and index.
#pragma once
#include "iter_num.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32[16]);
} iter_values SEC(".maps");

static __always_inline __u32 *iter_value(void) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&iter_values, &key);
}
