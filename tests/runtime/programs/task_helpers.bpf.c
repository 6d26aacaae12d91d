// Syscall programs (BPF_PROG_TEST_RUN runs them in the calling task) for the helpers that answer about
// the task or read another CPU's slot: bpf_map_lookup_percpu_elem on the three per-CPU map types,
// bpf_get_current_cgroup_id / bpf_get_current_ancestor_cgroup_id, bpf_send_signal(_thread). Each reads
// its inputs from the context and writes its answers there (the caller's bytes, compared with the
// kernel's ctx_out).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 4);
} pcpu_array SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 8);
} pcpu_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 8);
} lru_pcpu_hash SEC(".maps");

#define kMissing 0xdeadULL

struct percpu_args {
  __u32 nr_cpus;  // in: the possible CPUs
  __u32 key;      // in: a key the host filled (array and hashes); key + 5 is past the array, absent
  __u64 out[3][2][6];
};

static __always_inline __u64 value_or_missing(__u64 *v) { return v ? *v : kMissing; }

#define LOOKUPS(map, m)                                                                          \
  do {                                                                                           \
    __u32 present = a->key, absent = a->key + 5;                                                 \
    __u32 n = a->nr_cpus;                                                                        \
    a->out[m][0][0] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &present, 0));           \
    a->out[m][0][1] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &present, 1));           \
    a->out[m][0][2] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &present, n - 1));       \
    a->out[m][0][3] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &present, n));           \
    a->out[m][0][4] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &present, n + 7));       \
    a->out[m][0][5] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &present, 0xffffffffu)); \
    a->out[m][1][0] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &absent, 0));            \
    a->out[m][1][1] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &absent, 1));            \
    a->out[m][1][2] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &absent, n - 1));        \
    a->out[m][1][3] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &absent, n));            \
    a->out[m][1][4] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &absent, 4));            \
    a->out[m][1][5] = value_or_missing(bpf_map_lookup_percpu_elem(&map, &absent, 0xffffffffu));  \
    __u64 *last = bpf_map_lookup_percpu_elem(&map, &present, n - 1);                            \
    if (last) *last += 100; /* the host reads which slot changed */                              \
  } while (0)

SEC("syscall")
int percpu_lookups(struct percpu_args *a) {
  LOOKUPS(pcpu_array, 0);
  LOOKUPS(pcpu_hash, 1);
  LOOKUPS(lru_pcpu_hash, 2);
  return 0;
}

struct cgroup_args {
  __u64 id;
  __u64 negative;     // level -1
  __u64 ancestor[12]; // levels 0..11
};

SEC("syscall")
int cgroup_ids(struct cgroup_args *a) {
  a->id = bpf_get_current_cgroup_id();
  a->negative = bpf_get_current_ancestor_cgroup_id(-1);
#define LEVEL(l) a->ancestor[l] = bpf_get_current_ancestor_cgroup_id(l)
  LEVEL(0); LEVEL(1); LEVEL(2); LEVEL(3); LEVEL(4); LEVEL(5);
  LEVEL(6); LEVEL(7); LEVEL(8); LEVEL(9); LEVEL(10); LEVEL(11);
  return 0;
}

struct signal_args {
  __u32 sig;         // in: to the process (0: not sent)
  __u32 sig_thread;  // in: to the thread
  __s64 process_result, thread_result;
};

SEC("syscall")
int send_signals(struct signal_args *a) {
  a->process_result = bpf_send_signal(a->sig);
  a->thread_result = bpf_send_signal_thread(a->sig_thread);
  return 0;
}

char _license[] SEC("license") = "GPL";
