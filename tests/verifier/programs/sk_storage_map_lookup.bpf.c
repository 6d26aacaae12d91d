// verdict: reject
// error: cannot pass map_type 24 into func bpf_map_lookup_elem
// A local-storage map is reached only through its own helpers (bpf_sk_storage_get/delete): the
// kernel's check_map_func_compatibility refuses bpf_map_lookup_elem on a BPF_MAP_TYPE_SK_STORAGE.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, long);
} sk_stor SEC(".maps");

SEC("tc")
int sk_storage_map_lookup(struct __sk_buff *skb) {
  int key = 0;
  long *v = bpf_map_lookup_elem(&sk_stor, &key);
  return v ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
