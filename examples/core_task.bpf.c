// Example 3: CO-RE. A minimal local task_struct marked preserve_access_index; field offsets, existence,
// type sizes and enum values come from the target BTF at load time. Also __kconfig externs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
  int pid;
  int tgid;
} __attribute__((preserve_access_index));

// A flavor whose extra field no kernel has: reading it is poisoned, its existence check reads 0.
struct task_struct___future {
  int pid;
  long bpfvm_no_such_field;
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __s64);
} out SEC(".maps");

static __always_inline void put(__u32 k, __s64 v) { bpf_map_update_elem(&out, &k, &v, BPF_ANY); }

SEC("kprobe/do_nanosleep")
int read_task(void *ctx) {
  struct task_struct *task = (void *)bpf_get_current_task();
  put(0, BPF_CORE_READ(task, pid));
  put(1, bpf_core_field_exists(task->tgid));
  put(2, bpf_core_type_size(struct task_struct));
  put(3, bpf_core_enum_value(enum pid_type, PIDTYPE_TGID));
  struct task_struct___future *f = (void *)task;
  if (bpf_core_field_exists(f->bpfvm_no_such_field))
    put(4, BPF_CORE_READ(f, bpfvm_no_such_field));
  put(5, LINUX_KERNEL_VERSION);
  put(6, CONFIG_HZ);
  put(7, bpf_core_type_exists(struct task_struct));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
