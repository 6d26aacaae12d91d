// The BPF_F_WRONLY_PROG array of wronly_map_load and wronly_map_store: the program may store into its
// values, never load from them.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __uint(map_flags, BPF_F_WRONLY_PROG);
  __type(key, __u32);
  __type(value, __u64);
} sink SEC(".maps");
