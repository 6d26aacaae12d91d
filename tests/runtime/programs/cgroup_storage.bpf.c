// cgroup_skb egress accounting on cgroup storage, in the way per-cgroup rate limiters keep their state: a
// shared storage value (bytes and packets seen, a credit; the kernel side of this test creates maps
// without BTF, so no bpf_spin_lock here: maps_test covers that rule), a per-CPU storage counter,
// both through bpf_get_local_storage. The verdict and an array map record what the storage held before
// this packet, so a run that kept storage from an earlier run differs from the kernel's test run (each
// BPF_PROG_TEST_RUN gets fresh, zeroed storages).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct limiter {
  __u32 packets;
  __u64 bytes;
  __s64 credit;
};

struct {
  __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, struct limiter);
} shared SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
  __type(key, struct bpf_cgroup_storage_key);
  __type(value, __u64);
} per_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

static __always_inline void record(__u32 key, __u64 value) {
  __u64 *slot = bpf_map_lookup_elem(&seen, &key);
  if (slot) *slot += value;
}

SEC("cgroup_skb/egress")
int cgroup_storage(struct __sk_buff *skb) {
  struct limiter *l = bpf_get_local_storage(&shared, 0);
  __u64 *mine = bpf_get_local_storage(&per_cpu, 0);
  __u64 before_bytes, before_cpu = *mine;
  __u32 before_packets;
  __s64 credit;

  before_packets = l->packets;
  before_bytes = l->bytes;
  l->packets += 1;
  l->bytes += skb->len;
  l->credit -= skb->len;
  credit = l->credit;
  *mine += skb->len * 2;

  record(0, before_packets);
  record(1, before_bytes);
  record(2, before_cpu);
  record(3, (__u64)-credit);
  // 1 (pass) only when the storages started empty and the credit went down by exactly this packet.
  return before_packets == 0 && before_bytes == 0 && before_cpu == 0 && credit == -(__s64)skb->len &&
         *mine == (__u64)skb->len * 2;
}

char _license[] SEC("license") = "GPL";
