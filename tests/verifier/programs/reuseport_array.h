// The reuseport_array_*.bpf.c programs' map: a REUSEPORT_SOCKARRAY (key u32, value u64: socket fds in
// from the host, cookies out).
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reuse SEC(".maps");
