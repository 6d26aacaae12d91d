// verdict: accept
// Loads through a map pointer (the kernel's check_ptr_to_map_access): struct bpf_array's fields read by
// their offsets in the kernel's BTF (CO-RE relocations against it), stored into `results` so that
// test_kernel_map_ptr compares every value with the kernel's. results[6] is 1 when the first 8 bytes of
// 6.18's struct bpf_map (u8 sha[32], zero unless a hash was asked for) read 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map {
  enum bpf_map_type map_type;  // an enum in the kernel: CO-RE matches enum with enum only
  __u32 key_size;
  __u32 value_size;
  __u32 max_entries;
  __u32 map_flags;
} __attribute__((preserve_access_index));

struct bpf_array {
  struct bpf_map map;
  __u32 elem_size;
} __attribute__((preserve_access_index));

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 48);
  __uint(map_flags, BPF_F_RDONLY_PROG);
  __type(key, __u32);
  __type(value, __u8[20]);
} fields_array SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32[8]);
} results SEC(".maps");

SEC("socket")
int map_ptr_fields(struct __sk_buff *skb) {
  struct bpf_array *a = (struct bpf_array *)&fields_array;
  __u32 key = 0;
  __u32 *out = bpf_map_lookup_elem(&results, &key);
  __u64 first;
  if (!out) return 0;
  out[0] = a->map.map_type;
  out[1] = a->map.key_size;
  out[2] = a->map.value_size;
  out[3] = a->map.max_entries;
  out[4] = a->map.map_flags;
  out[5] = a->elem_size;
  asm volatile("%[first] = *(u64 *)(%[map] + 0)" : [first] "=r"(first) : [map] "r"(&fields_array));
  out[6] = first == 0;
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
