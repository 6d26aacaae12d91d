// The two socket maps test_runtime_diff's LoopbackSockets fills with the host's loopback TCP sockets
// (slots 0..6, the same fds in the kernel's maps and bpfvm's), for programs that look sockets up.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 8);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u64));
} lookup_socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 8);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u64));
} lookup_hash SEC(".maps");
