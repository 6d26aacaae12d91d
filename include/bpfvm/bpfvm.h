/* bpfvm's C API: the embedding surface of include/bpfvm/bpfvm.hpp for C and other languages.
 *
 * Conventions (STYLE.md section 3):
 *  - Every function that can fail returns an int status: BPFVM_OK (0) or a positive BPFVM_E* code,
 *    the C mirror of bpfvm::Errc. When `err` is not NULL it is always written: cleared on success,
 *    filled with the code, the instruction index (or BPFVM_NO_PC) and a one-line message on failure.
 *  - Map calls are the exception to the status rule: like bpf(2) map commands they return 0 or a
 *    negative kernel errno (-ENOENT, -E2BIG, -EEXIST, ...). A failing errno also fills `err`:
 *    code BPFVM_EERRNO, sys_errno the positive errno, message its name ("ENOENT"). A call that is
 *    itself unusable (a NULL handle or buffer, a buffer shorter than the map's size) returns -EINVAL
 *    with code BPFVM_EINVALID_ARGUMENT and a message saying why.
 *  - Destructors and the accessors used inside helpers cannot fail and return their value directly.
 *  - No C++ exception crosses this API; out of memory is reported as BPFVM_EINTERNAL.
 *
 * Lifetimes: handles may be destroyed in any order (an object keeps what it needs of its vm, a
 * program what it needs of its object). A bpfvm_map* and the strings an object hands out stay
 * valid until that object is destroyed. bpfvm_program_run/test_run may be called from many
 * threads at once on one program; configure a vm (helpers, trace sink) before opening objects.
 */
#ifndef BPFVM_BPFVM_H
#define BPFVM_BPFVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define BPFVM_NOEXCEPT noexcept
extern "C" {
#else
#define BPFVM_NOEXCEPT
#endif

/** Status codes; one to one with bpfvm::Errc (include/bpfvm/result.hpp). */
enum bpfvm_errc {
  BPFVM_OK = 0,
  BPFVM_EINVALID_ARGUMENT = 1, /**< the caller passed something unusable (NULL handle, bad option) */
  BPFVM_EMALFORMED = 2,        /**< bytecode, assembly or ELF that does not parse or decode */
  BPFVM_EUNSUPPORTED = 3,      /**< valid input bpfvm does not implement yet */
  BPFVM_EREJECTED = 4,         /**< the verifier refused the program */
  BPFVM_EMEMORY_FAULT = 5,     /**< checked mode: a load/store outside every allowed region */
  BPFVM_EBUDGET_EXCEEDED = 6,  /**< the run used more instructions than its budget */
  BPFVM_ECALL_DEPTH = 7,       /**< too many nested BPF-to-BPF calls */
  BPFVM_EHELPER_FAULT = 8,     /**< a helper refused its arguments or is not registered */
  BPFVM_EIO = 9,               /**< a file could not be read or written */
  BPFVM_EINTERNAL = 10,        /**< a bpfvm bug (please report), or out of memory */
  BPFVM_EERRNO = 11,           /**< a map command failed with a kernel errno (bpfvm_error::sys_errno) */
};

/** bpfvm_error::pc when no instruction applies. */
#define BPFVM_NO_PC 0xffffffffu

/** One failure: a BPFVM_E* code, the instruction index or BPFVM_NO_PC, and a NUL-terminated
 *  message ("insn 4: r3 may be null before 8-byte load"), truncated to fit. */
typedef struct bpfvm_error {
  int code;
  uint32_t pc;
  char message[256];
  int sys_errno; /**< BPFVM_EERRNO: the kernel's errno (positive: ENOENT, EEXIST, E2BIG...); else 0 */
} bpfvm_error;

/** A BPFVM_E* code's name, e.g. "malformed"; "unknown" for other values. Never NULL. */
const char *bpfvm_strerror(int code) BPFVM_NOEXCEPT;

/* Opaque handles. */
typedef struct bpfvm_vm bpfvm_vm;                   /**< a runtime instance: helpers and options */
typedef struct bpfvm_object bpfvm_object;           /**< programs and maps opened together; owns the maps */
typedef struct bpfvm_program bpfvm_program;         /**< one program, verified and prepared for an engine */
typedef struct bpfvm_map bpfvm_map;                 /**< one map of an object (owned by the object) */
typedef struct bpfvm_helper_call bpfvm_helper_call; /**< the run a helper call belongs to */

/* ---- vm ------------------------------------------------------------------------------------- */

/** Creates a vm with the kernel helpers registered. nr_cpus: per-CPU map slots (0 = one per
 *  hardware thread). */
int bpfvm_vm_create(unsigned nr_cpus, bpfvm_vm **out, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Releases the handle; NULL is ignored. Objects opened from it stay usable. */
void bpfvm_vm_destroy(bpfvm_vm *vm) BPFVM_NOEXCEPT;

/** Argument types of a helper signature; one to one with bpfvm::ArgType (the kernel's
 *  enum bpf_arg_type). */
enum bpfvm_arg_type {
  BPFVM_ARG_DONTCARE = 0,
  BPFVM_ARG_ANYTHING,
  BPFVM_ARG_CONST_MAP_PTR,
  BPFVM_ARG_PTR_TO_MAP_KEY,
  BPFVM_ARG_PTR_TO_MAP_VALUE,
  BPFVM_ARG_PTR_TO_MEM,
  BPFVM_ARG_PTR_TO_UNINIT_MEM,
  BPFVM_ARG_CONST_SIZE,
  BPFVM_ARG_CONST_SIZE_OR_ZERO,
  BPFVM_ARG_PTR_TO_CTX,
  BPFVM_ARG_PTR_TO_STACK,
  BPFVM_ARG_PTR_TO_FUNC,
  BPFVM_ARG_PTR_TO_RINGBUF_MEM,
  BPFVM_ARG_PTR_TO_SPIN_LOCK,
  BPFVM_ARG_PTR_TO_LONG,
  BPFVM_ARG_PTR_TO_CONST_STR,
  BPFVM_ARG_CONST_ALLOC_SIZE_OR_ZERO,
  BPFVM_ARG_PTR_TO_UNINIT_MAP_VALUE, /* written by the helper (map pop/peek) */
  BPFVM_ARG_PTR_TO_INT,
};

/** Return types of a helper signature; one to one with bpfvm::RetType. */
enum bpfvm_ret_type {
  BPFVM_RET_INTEGER = 0,
  BPFVM_RET_VOID,
  BPFVM_RET_PTR_TO_MAP_VALUE_OR_NULL,
  BPFVM_RET_PTR_TO_ALLOC_MEM_OR_NULL,
  BPFVM_RET_PTR_TO_MEM_OR_NULL,
};

/** What the verifier checks at each call of a helper: a BPFVM_RET_* and five BPFVM_ARG_*
 *  (r1..r5). */
typedef struct bpfvm_helper_signature {
  int ret;
  int args[5];
} bpfvm_helper_signature;

/** A host helper: the kernel's shape, five u64 arguments (r1..r5) and a u64 result (r0). */
typedef uint64_t (*bpfvm_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    bpfvm_helper_call *call);

/** Adds or replaces the helper with this id (kernel helpers are registered already; host helpers
 *  conventionally use ids from 0x10000). `name` (may be NULL) appears in verifier messages and
 *  faults; `user` is returned by bpfvm_helper_user_data(); `signature` NULL means unknown: the
 *  verifier then treats r1..r5 as any scalar and r0 as an unknown scalar. */
int bpfvm_vm_add_helper(bpfvm_vm *vm, uint32_t id, const char *name, bpfvm_helper_fn fn, void *user,
                        const bpfvm_helper_signature *signature, bpfvm_error *err) BPFVM_NOEXCEPT;

/** Receives bpf_trace_printk / bpf_snprintf-based trace lines (`line` is not NUL-terminated). */
typedef void (*bpfvm_trace_fn)(void *user, const char *line, size_t size_bytes);
/** Where trace output goes; `fn` NULL drops it (the default). May be called from run threads. */
int bpfvm_vm_set_trace_sink(bpfvm_vm *vm, bpfvm_trace_fn fn, void *user, bpfvm_error *err) BPFVM_NOEXCEPT;

/** The task bpf_get_current_pid_tgid / uid_gid / comm report (default: this process). */
int bpfvm_vm_set_current_task(bpfvm_vm *vm, uint32_t tgid, uint32_t pid, uint32_t uid, uint32_t gid,
                              const char *comm, bpfvm_error *err) BPFVM_NOEXCEPT;

/** bpf_timer: the clock CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_REALTIME timers (and
 *  bpf_ktime_get_ns / bpf_ktime_get_boot_ns) read, in ns; `now_ns` NULL restores the host's clocks.
 *  A clock the host advances makes timer firing deterministic. Set it before the first run. */
typedef uint64_t (*bpfvm_clock_fn)(void *user);
int bpfvm_vm_set_clock(bpfvm_vm *vm, bpfvm_clock_fn now_ns, void *user, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Runs the callback of every bpf_timer armed before this call whose expiry is at or before its
 *  clock's now, earliest first (C++ Vm::run_due_timers); `fired` (may be NULL) gets how many ran.
 *  Callbacks run only here, on the calling thread. A failing callback returns its error. */
int bpfvm_vm_run_due_timers(bpfvm_vm *vm, size_t *fired, bpfvm_error *err) BPFVM_NOEXCEPT;
/** The earliest expiry among armed bpf_timers in `expiry_ns`; BPFVM_OK with *armed = 0 when none. */
int bpfvm_vm_next_timer_expiry(const bpfvm_vm *vm, int *armed, uint64_t *expiry_ns, bpfvm_error *err) BPFVM_NOEXCEPT;

/** Options for opening an ELF object; pass NULL for none. */
typedef struct bpfvm_open_options {
  const void *target_btf;     /**< kernel BTF for CO-RE (e.g. /sys/kernel/btf/vmlinux bytes) */
  size_t target_btf_size;
  const char *const *kconfig; /**< __kconfig values as name/value pairs: {"CONFIG_HZ", "250", ...} */
  size_t kconfig_pairs;       /**< number of pairs (kconfig holds twice as many strings) */
  /** Inner map templates for map-in-maps whose definition names none (a 20-byte struct bpf_map_def),
   *  as outer/template map name pairs: {"outer", "inner_template", ...}; what libbpf 0.x's
   *  bpf_map__set_inner_map_fd gave. Without one, such a map is not created and the programs that use
   *  it fail to load, naming it. */
  const char *const *inner_map_templates;
  size_t inner_map_template_pairs; /**< number of pairs */
  /** Nonzero: open to verify only (C++ LoadOptions::verify_only), as `bpfvm verify` does: each map is
   *  checked as creating it would be but allocates nothing, so the map memory cap (C++ VmOptions) does not
   *  apply; the object has no maps, bpfvm_object_load verifies and prepares no engine, and runs refuse. */
  int verify_only;
} bpfvm_open_options;

/** Opens an ELF object from memory (the bytes are copied). `name` (may be NULL: "obj") prefixes
 *  global-data map names as libbpf does. */
int bpfvm_vm_open_elf(const bpfvm_vm *vm, const void *elf, size_t size_bytes, const char *name,
                      const bpfvm_open_options *options, bpfvm_object **out, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Opens an ELF object file ("prog.bpf.o"). */
int bpfvm_vm_open_elf_file(const bpfvm_vm *vm, const char *path, const bpfvm_open_options *options,
                           bpfvm_object **out, bpfvm_error *err) BPFVM_NOEXCEPT;

/** bpf_prog_type for bytecode and assembly: 0 is bpfvm's plain type (r1 = input buffer, r2 = its
 *  length), otherwise a kernel BPF_PROG_TYPE_* number (XDP 6, SOCKET_FILTER 1, ...). */
#define BPFVM_PROG_TYPE_PLAIN 0u

/** Opens raw eBPF bytecode (8-byte instructions) as a one-program object named `name` (may be
 *  NULL: "prog"). max_input_bytes: for the plain type, the largest input the verifier allows. */
int bpfvm_vm_open_bytecode(const bpfvm_vm *vm, const void *insns, size_t size_bytes, uint32_t bpf_prog_type,
                           uint32_t max_input_bytes, const char *name, bpfvm_object **out,
                           bpfvm_error *err) BPFVM_NOEXCEPT;
/** As bpfvm_vm_open_bytecode, from assembly text in the conformance suite's dialect. */
int bpfvm_vm_open_assembly(const bpfvm_vm *vm, const char *text, uint32_t bpf_prog_type, uint32_t max_input_bytes,
                           const char *name, bpfvm_object **out, bpfvm_error *err) BPFVM_NOEXCEPT;

/** A range of a host-defined context that programs may read, and write when `writable` is non-zero. */
typedef struct bpfvm_context_field {
  uint32_t offset;     /**< byte offset in the context */
  uint32_t size_bytes; /**< size of the range */
  int writable;        /**< programs may store to it */
} bpfvm_context_field;

/** The host's own program type: r1 points at `ctx_size_bytes` bytes (bpfvm_test_run.ctx_in, zero-padded
 *  when shorter), of which the verifier lets programs touch only `fields`. */
typedef struct bpfvm_host_program_type {
  const char *name;                   /**< shown in verifier messages (NULL: "host") */
  uint32_t ctx_size_bytes;
  const bpfvm_context_field *fields;  /**< `field_count` ranges inside the context */
  size_t field_count;
} bpfvm_host_program_type;

/** As bpfvm_vm_open_bytecode, for a program of the host's own type. */
int bpfvm_vm_open_bytecode_host(const bpfvm_vm *vm, const void *insns, size_t size_bytes,
                                const bpfvm_host_program_type *type, const char *name, bpfvm_object **out,
                                bpfvm_error *err) BPFVM_NOEXCEPT;
/** As bpfvm_vm_open_assembly, for a program of the host's own type. */
int bpfvm_vm_open_assembly_host(const bpfvm_vm *vm, const char *text, const bpfvm_host_program_type *type,
                                const char *name, bpfvm_object **out, bpfvm_error *err) BPFVM_NOEXCEPT;

/* ---- object --------------------------------------------------------------------------------- */

/** Releases the object; NULL is ignored. Its map handles and strings die with it; programs
 *  loaded from it stay usable. */
void bpfvm_object_destroy(bpfvm_object *obj) BPFVM_NOEXCEPT;

/** Number of programs in the object. */
int bpfvm_object_program_count(const bpfvm_object *obj, size_t *count, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Name of program `index` (valid while the object lives). */
int bpfvm_object_program_name(const bpfvm_object *obj, size_t index, const char **name,
                              bpfvm_error *err) BPFVM_NOEXCEPT;

/** Number of maps in the object (global-data maps included). */
int bpfvm_object_map_count(const bpfvm_object *obj, size_t *count, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Map `index` (0 .. count-1). */
int bpfvm_object_map_at(const bpfvm_object *obj, size_t index, bpfvm_map **map, bpfvm_error *err) BPFVM_NOEXCEPT;
/** The map called `name` ("rxcnt", ".data"); BPFVM_EINVALID_ARGUMENT when there is none. */
int bpfvm_object_map(const bpfvm_object *obj, const char *name, bpfvm_map **map, bpfvm_error *err) BPFVM_NOEXCEPT;

/* ---- program -------------------------------------------------------------------------------- */

enum bpfvm_engine {
  BPFVM_ENGINE_INTERPRETER = 0,
  BPFVM_ENGINE_JIT = 1, /**< native code for the host (x86-64, arm64) */
  BPFVM_ENGINE_JIT_OPTIMIZED = 2, /**< fast runs use the optimizing tier where it supports the program */
};

/** How a program is loaded. Start from BPFVM_PROGRAM_OPTIONS_DEFAULT; passing NULL means that. */
typedef struct bpfvm_program_options {
  int engine;            /**< BPFVM_ENGINE_* */
  int verify;            /**< nonzero: run the verifier. Zero is for fuzzing and debugging only */
  int checked;           /**< nonzero: check every load/store at run time (faults become errors) */
  int unprivileged;      /**< nonzero: the verifier forbids pointer leaks */
  uint64_t budget_insns; /**< stop a run after this many instructions (0 = no budget) */
  int verifier_log_level;  /**< 0 none, 1 verdict and path, 2 the state at every instruction */
  char *verifier_log;      /**< receives the log, NUL-terminated and truncated to fit (may be NULL) */
  size_t verifier_log_size;
} bpfvm_program_options;

#define BPFVM_PROGRAM_OPTIONS_DEFAULT {BPFVM_ENGINE_INTERPRETER, 1, 0, 0, 0, 0, NULL, 0}

/** Verifies (unless options->verify is 0) and prepares program `name` of `obj` for an engine.
 *  A rejection is BPFVM_EREJECTED with the pc and reason in `err`. */
int bpfvm_object_load(const bpfvm_object *obj, const char *name, const bpfvm_program_options *options,
                      bpfvm_program **out, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Releases the program; NULL is ignored. */
void bpfvm_program_destroy(bpfvm_program *prog) BPFVM_NOEXCEPT;

/** Runs a plain program once on a copy of data (r1 = the copy, r2 = size_bytes); r0 may be NULL. */
int bpfvm_program_run(const bpfvm_program *prog, const void *data, size_t size_bytes, uint64_t *r0,
                      bpfvm_error *err) BPFVM_NOEXCEPT;

/** One BPF_PROG_TEST_RUN-style run: inputs, then outputs the call fills. */
typedef struct bpfvm_test_run {
  /* in */
  const void *data_in;   /**< packet (XDP, socket filter, tc) or buffer (plain); may be NULL */
  size_t data_size_in;
  const void *ctx_in;    /**< context bytes (xdp_md, __sk_buff, pt_regs); may be NULL */
  size_t ctx_size_in;
  uint32_t repeat;       /**< run this many times (0 counts as 1) on one copy of the input, as BPF_PROG_TEST_RUN; outputs are the last run's */
  void *host_data;       /**< reachable from helpers through bpfvm_helper_host_data() */
  void *data_out;        /**< receives the packet/buffer after the run; may be NULL */
  size_t data_size_out;  /**< in: capacity of data_out; out: bytes the run produced */
  void *ctx_out;         /**< receives the context after the run; may be NULL */
  size_t ctx_size_out;   /**< in: capacity of ctx_out; out: bytes the run produced */
  /* out */
  uint64_t r0;
  uint32_t retval;       /**< low 32 bits of r0, as BPF_PROG_TEST_RUN reports it */
  uint64_t insns_executed; /**< last run; 0 where the engine does not count */
  double ns_per_run;     /**< mean wall time per repetition; 0 for a single run unless measure_time */
  int redirected;        /**< nonzero when bpf_redirect / redirect_map recorded a target */
  uint32_t redirect_ifindex;
  /* in */
  int measure_time;      /**< nonzero: time a single run too (repeat > 1 is always timed) */
  /* out */
  double cpu_ns_per_run; /**< mean CPU time of the calling thread per repetition (leaves out preemption,
                              as the kernel's test-run duration does); 0 when ns_per_run is */
  /** cgroup hooks (cgroup_sock, cgroup_device, cgroup_sock_addr, cgroup_sysctl, cgroup_sockopt):
   *  has_cgroup_retval is nonzero and cgroup_retval is what the hook gives the syscall, as
   *  bpf_prog_run_array_cg leaves its retval (C++ RunOutput::cgroup_retval): what bpf_set_retval set
   *  (getsockopt: the context's retval), or -EPERM when the program returned 0 and that was not an
   *  error; 0: the syscall goes on. Other types: both 0. */
  int has_cgroup_retval;
  int32_t cgroup_retval;
} bpfvm_test_run;

/** Runs the program as BPF_PROG_TEST_RUN does. Outputs go to the caller's data_out / ctx_out:
 *  reuse one bpfvm_test_run and its buffers per thread, and a plain or host-context program's call
 *  allocates nothing once the thread has run it. When data_out (ctx_out) is too small, it receives
 *  what fits, data_size_out (ctx_size_out) the size needed, and the call returns
 *  BPFVM_EINVALID_ARGUMENT (the kernel's ENOSPC) with the other outputs filled. */
int bpfvm_program_test_run(const bpfvm_program *prog, bpfvm_test_run *run, bpfvm_error *err) BPFVM_NOEXCEPT;

/* ---- runner: the per-event form of bpfvm_program_run/test_run ---------------------------------- */

/** A host-held runner of one program (bpfvm::Runner): it keeps the run's context, helper state and
 *  output buffers set up between calls, so a call copies the input, runs the code and returns r0,
 *  allocating nothing once it has run on an input of that size. Same results and errors as
 *  bpfvm_program_run/test_run. Threading: one thread at a time uses a runner (it is not shared between
 *  threads concurrently, and not re-entered from a helper of its own run); any number of runners of
 *  one program may run at once. It keeps its program alive (the program may be destroyed first);
 *  once the program's optimizing tier is ready (tiering), its next call runs that code. */
typedef struct bpfvm_runner bpfvm_runner;

/** Creates a runner of `prog` into *out (release it with bpfvm_runner_destroy). */
int bpfvm_runner_new(const bpfvm_program *prog, bpfvm_runner **out, bpfvm_error *err) BPFVM_NOEXCEPT;
/** Releases the runner; NULL is ignored. */
void bpfvm_runner_destroy(bpfvm_runner *runner) BPFVM_NOEXCEPT;
/** One run on `data` (plain: r1 = a copy, r2 = size_bytes; context types: the context bytes; packet
 *  types: the packet), r0 into *r0 (may be NULL). */
int bpfvm_runner_run(bpfvm_runner *runner, const void *data, size_t size_bytes, uint64_t *r0,
                     bpfvm_error *err) BPFVM_NOEXCEPT;
/** The last run's buffer, packet or context after the run (NULL, size 0 before a run); valid until the
 *  runner's next run. */
const void *bpfvm_runner_data_out(const bpfvm_runner *runner, size_t *size_bytes) BPFVM_NOEXCEPT;
/** bpfvm_program_test_run through the runner's held state (same inputs, outputs and errors). */
int bpfvm_runner_test_run(bpfvm_runner *runner, bpfvm_test_run *run, bpfvm_error *err) BPFVM_NOEXCEPT;

/* ---- map ------------------------------------------------------------------------------------ */

/** A map's definition. */
typedef struct bpfvm_map_info {
  const char *name;       /**< valid while the object lives */
  uint32_t type;          /**< BPF_MAP_TYPE_* */
  uint32_t key_size;
  uint32_t value_size;    /**< per-CPU maps: one CPU's value */
  uint32_t max_entries;
  uint32_t flags;
  size_t host_value_size; /**< bytes a lookup writes: value_size, or one 8-byte-rounded value per CPU */
  uint32_t batch_cursor_size; /**< bytes of a batch cursor (in_batch/out_batch): 4 for hash maps */
} bpfvm_map_info;

int bpfvm_map_get_info(const bpfvm_map *map, bpfvm_map_info *info, bpfvm_error *err) BPFVM_NOEXCEPT;

/** bpf_map_lookup_elem: copies the value into `value` (host_value_size bytes). 0 or -errno. */
int bpfvm_map_lookup(const bpfvm_map *map, const void *key, size_t key_size, void *value, size_t value_size,
                     bpfvm_error *err) BPFVM_NOEXCEPT;
/** bpf_map_update_elem with BPF_ANY / BPF_NOEXIST / BPF_EXIST flags. 0 or -errno. */
int bpfvm_map_update(bpfvm_map *map, const void *key, size_t key_size, const void *value, size_t value_size,
                     uint64_t flags, bpfvm_error *err) BPFVM_NOEXCEPT;
/** bpf_map_delete_elem. 0 or -errno. */
int bpfvm_map_delete(bpfvm_map *map, const void *key, size_t key_size, bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_TYPE_CGROUP_ARRAY: puts a cgroup in slot `index` (a process has no cgroup fds to update
 *  with): `cgroup_id` names it; `holds_current_task` (0/1) is what bpf_current_task_under_cgroup and
 *  bpf_skb_under_cgroup answer for it. 0, -E2BIG out of range, -EINVAL for other map types. */
int bpfvm_map_set_cgroup(bpfvm_map *map, uint32_t index, uint64_t cgroup_id, int holds_current_task,
                         bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_TYPE_XSKMAP: puts an AF_XDP socket bound to `queue_id` in slot `index` (bpf_redirect_map
 *  then redirects to it; a program's lookup reads the queue id). 0, -E2BIG out of range, -EINVAL for
 *  other map types. */
int bpfvm_map_set_xsk(bpfvm_map *map, uint32_t index, uint32_t queue_id, bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_TYPE_USER_RINGBUF producer, as libbpf's user_ring_buffer__reserve / submit / discard:
 *  reserve sets *sample to `size` writable bytes; 0, -E2BIG (size uses the header's flag bits, or the
 *  record with its 8-byte header exceeds the ring), -ENOSPC (no room until programs drain). Fill
 *  it, then submit or discard it (0, or -EINVAL for a pointer reserve did not hand out). One
 *  producing thread at a time; programs drain with bpf_user_ringbuf_drain. -EINVAL for other maps. */
int bpfvm_map_user_ringbuf_reserve(bpfvm_map *map, uint32_t size, void **sample, bpfvm_error *err) BPFVM_NOEXCEPT;
int bpfvm_map_user_ringbuf_submit(bpfvm_map *map, void *sample, bpfvm_error *err) BPFVM_NOEXCEPT;
int bpfvm_map_user_ringbuf_discard(bpfvm_map *map, void *sample, bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_TYPE_RINGBUF consumer, as libbpf's ring_buffer__consume: calls fn(ctx, data, size) for
 *  each submitted record in order (discarded ones skipped), up to the first record still reserved;
 *  a negative return from fn stops after that record. Returns how many records fn was given, or
 *  -EINVAL for other maps or a NULL fn. */
typedef int (*bpfvm_ringbuf_record_fn)(void *ctx, const void *data, size_t size);
int bpfvm_map_ringbuf_consume(bpfvm_map *map, bpfvm_ringbuf_record_fn fn, void *ctx, bpfvm_error *err) BPFVM_NOEXCEPT;
/** bpf_map_get_next_key: the first key when `key` is NULL; -ENOENT after the last. */
int bpfvm_map_next_key(const bpfvm_map *map, const void *key, size_t key_size, void *next_key,
                       size_t next_key_size, bpfvm_error *err) BPFVM_NOEXCEPT;

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM on a hash map: copies the value, then deletes the element.
 *  0, -ENOENT, or -ENOTSUPP (-524) for other types (queues and stacks: key_size is 0, use NULL/0). */
int bpfvm_map_lookup_and_delete(bpfvm_map *map, const void *key, size_t key_size, void *value, size_t value_size,
                                bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_LOOKUP_BATCH (and_delete: BPF_MAP_LOOKUP_AND_DELETE_BATCH), as libbpf's
 *  bpf_map_lookup_batch: in_batch is NULL at the start, else the previous call's out_batch (each
 *  batch_cursor_size bytes). *count is in: room in keys/values (elements), out: elements copied.
 *  Returns 0, or -ENOENT when the walk reached the end (with *count still set), -ENOSPC when not
 *  even one hash bucket fits, -ENOTSUPP (-524) for types without batches. */
int bpfvm_map_lookup_batch(bpfvm_map *map, const void *in_batch, void *out_batch, void *keys, void *values,
                           uint32_t *count, int and_delete, bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_UPDATE_BATCH: *count keys and values in order; stops at the first failure, with *count
 *  the number applied. elem_flags: 0 or BPF_F_LOCK. */
int bpfvm_map_update_batch(bpfvm_map *map, const void *keys, const void *values, uint32_t *count,
                           uint64_t elem_flags, bpfvm_error *err) BPFVM_NOEXCEPT;
/** BPF_MAP_DELETE_BATCH: deletes *count keys in order; stops at the first failure (-ENOENT), with
 *  *count the number deleted. */
int bpfvm_map_delete_batch(bpfvm_map *map, const void *keys, uint32_t *count, bpfvm_error *err) BPFVM_NOEXCEPT;

/* ---- inside a helper ------------------------------------------------------------------------ */

/** The `user` pointer the running helper was registered with. */
void *bpfvm_helper_user_data(const bpfvm_helper_call *call) BPFVM_NOEXCEPT;
/** The bpfvm_test_run::host_data of the run this call belongs to (NULL for bpfvm_program_run). */
void *bpfvm_helper_host_data(const bpfvm_helper_call *call) BPFVM_NOEXCEPT;
/** Stops the run once the helper returns: the run fails with BPFVM_EHELPER_FAULT naming the helper,
 *  the pc and `reason`. */
int bpfvm_helper_fail(bpfvm_helper_call *call, const char *reason, bpfvm_error *err) BPFVM_NOEXCEPT;
/** 1 when [addr, addr+size_bytes) is memory the program may read (write: and write), else 0.
 *  Unchecked runs trust the verifier: always 1. */
int bpfvm_helper_memory_ok(const bpfvm_helper_call *call, const void *addr, size_t size_bytes,
                           int write) BPFVM_NOEXCEPT;

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* BPFVM_BPFVM_H */
