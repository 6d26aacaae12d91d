// verdict: reject
// error: R1 type=
// A pointer to a member of task_struct (its embedded sched_entity) is no task_struct: the kernel's
// btf_struct_ids_match walks from the member at that offset through first members (sched_entity,
// load_weight, a number) and never reaches task_struct.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sched_entity {
  unsigned long x;
} __attribute__((preserve_access_index));

struct task_struct {
  struct sched_entity se;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_task_member_arg(void *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  return bpf_task_pt_regs((struct task_struct *)&task->se) != 0;
}

char LICENSE[] SEC("license") = "GPL";
