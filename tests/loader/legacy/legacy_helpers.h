/* Declarations the way pre-libbpf-1.0 trees wrote them (samples/bpf's bpf_helpers.h, iproute2's
 * bpf_api.h): helpers as pointers to their ids, sections by attribute, no BTF-defined maps. */
#ifndef LEGACY_HELPERS_H
#define LEGACY_HELPERS_H

#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static int (*bpf_map_update_elem)(void *map, const void *key, const void *value, unsigned long long flags) = (void *)2;
static void (*bpf_tail_call)(void *ctx, void *map, int index) = (void *)12;
static int (*bpf_perf_event_output)(void *ctx, void *map, unsigned long long flags, void *data, unsigned long long size) = (void *)25;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, unsigned long long size, unsigned long long flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, unsigned long long flags) = (void *)132;

/* iproute2's include/bpf_elf.h */
struct bpf_elf_map {
  __u32 type;
  __u32 size_key;
  __u32 size_value;
  __u32 max_elem;
  __u32 flags;
  __u32 id;
  __u32 pinning;
  __u32 inner_id;
  __u32 inner_idx;
};
#define PIN_NONE 0
#define PIN_OBJECT_NS 1
#define PIN_GLOBAL_NS 2

/* samples/bpf's bpf_load.c struct bpf_load_map_def (kernels 4.14 to 5.x) */
struct bpf_load_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
  unsigned int inner_map_idx;
  unsigned int numa_node;
};

#endif
