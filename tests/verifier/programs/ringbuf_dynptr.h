// The ringbuf_dynptr_*.bpf.c programs' ring buffer: bpf_ringbuf_reserve_dynptr reserves its records.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} records SEC(".maps");
