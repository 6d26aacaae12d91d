// The timer_*.bpf.c programs' map: two values, each a counter and a struct bpf_timer, in an array
// (TIMER_MAP_TYPE sets another type), and the callback they arm, returning TIMER_CALLBACK_RESULT (0).
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1
#ifndef TIMER_MAP_TYPE
#define TIMER_MAP_TYPE BPF_MAP_TYPE_ARRAY
#endif
#ifndef TIMER_CALLBACK_RESULT
#define TIMER_CALLBACK_RESULT 0
#endif

struct elem {
  __u64 fired;
  struct bpf_timer t;
};

struct {
  __uint(type, TIMER_MAP_TYPE);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct elem);
} timers SEC(".maps");

static int on_timer(void *map, __u32 *key, struct elem *value) {
  value->fired += *key + 1;
  return TIMER_CALLBACK_RESULT;
}
