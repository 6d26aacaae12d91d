/* The C API (include/bpfvm/bpfvm.h) from a C translation unit: every function, success and error
 * paths. Usage: test_c_api <xdp_parse.bpf.o> <globals_subprog.bpf.o> <maps.bpf.o> <fd_maps.bpf.o> */
#include "bpfvm/bpfvm.h"

#include <linux/bpf.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

/* A status check that also prints the error message when it fails. */
#define CHECK_OK(call)                                                                          \
  do {                                                                                          \
    int status_ = (call);                                                                       \
    if (status_ != BPFVM_OK) {                                                                  \
      fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, bpfvm_strerror(status_), \
              err.message);                                                                     \
      ++failures;                                                                               \
    }                                                                                           \
  } while (0)

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

/* An Ethernet + IPv4 + UDP packet to dst_port (xdp_parse drops port 9, passes the rest). */
static void udp_packet(unsigned char p[42], uint16_t dst_port) {
  static const unsigned char ip[] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  memset(p, 0, 42);
  p[12] = 0x08; /* ETH_P_IP */
  memcpy(&p[14], ip, sizeof ip);
  p[36] = (unsigned char)(dst_port >> 8);
  p[37] = (unsigned char)dst_port;
}

struct helper_state {
  uint64_t secret;
  int calls;
};

/* 0x10000: r1 + the registered secret; r1 == 13 fails the run; counts calls in host_data if given. */
static uint64_t add_secret(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, bpfvm_helper_call *call) {
  (void)r2, (void)r3, (void)r4, (void)r5;
  struct helper_state *state = bpfvm_helper_user_data(call);
  int *host_calls = bpfvm_helper_host_data(call);
  state->calls++;
  if (host_calls) ++*host_calls;
  if (r1 == 13) {
    bpfvm_error e;
    int s = bpfvm_helper_fail(call, "unlucky number", &e);
    if (s != BPFVM_OK || e.code != BPFVM_OK) ++failures;
    return 0;
  }
  return r1 + state->secret;
}

/* 0x10001(ptr, size): bit 0 = the program's buffer is readable, bit 1 = address 8 is. */
static uint64_t probe_memory(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                             bpfvm_helper_call *call) {
  (void)r3, (void)r4, (void)r5;
  return (uint64_t)bpfvm_helper_memory_ok(call, (const void *)(uintptr_t)r1, (size_t)r2, 0) |
         (uint64_t)bpfvm_helper_memory_ok(call, (const void *)(uintptr_t)8, 8, 0) << 1;
}

struct trace {
  char text[64];
  int lines;
};

static void on_trace(void *user, const char *line, size_t size) {
  struct trace *t = user;
  size_t n = size < sizeof t->text - 1 ? size : sizeof t->text - 1;
  memcpy(t->text, line, n);
  t->text[n] = '\0';
  t->lines++;
}

static void test_errors_and_vm(void) {
  bpfvm_error err;
  CHECK(strcmp(bpfvm_strerror(BPFVM_OK), "ok") == 0);
  CHECK(strcmp(bpfvm_strerror(BPFVM_EMALFORMED), "malformed") == 0);
  for (int c = BPFVM_OK; c <= BPFVM_EERRNO; ++c) CHECK(strcmp(bpfvm_strerror(c), "unknown") != 0);
  CHECK(strcmp(bpfvm_strerror(-1), "unknown") == 0);
  CHECK(strcmp(bpfvm_strerror(BPFVM_EERRNO + 1), "unknown") == 0);

  CHECK(bpfvm_vm_create(0, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(err.code == BPFVM_EINVALID_ARGUMENT && err.pc == BPFVM_NO_PC && strstr(err.message, "NULL"));
  bpfvm_vm_destroy(NULL);
  bpfvm_object_destroy(NULL);
  bpfvm_program_destroy(NULL);

  bpfvm_vm *vm = NULL;
  CHECK_OK(bpfvm_vm_create(2, &vm, &err));
  CHECK(vm != NULL && err.code == BPFVM_OK && err.message[0] == '\0');

  /* add_helper error paths */
  struct helper_state state = {1000, 0};
  CHECK(bpfvm_vm_add_helper(NULL, 0x10000, "x", add_secret, &state, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_add_helper(vm, 0x10000, "x", NULL, &state, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  bpfvm_helper_signature bad_ret = {99, {0, 0, 0, 0, 0}};
  CHECK(bpfvm_vm_add_helper(vm, 0x10000, "x", add_secret, &state, &bad_ret, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(strstr(err.message, "return type") != NULL);
  bpfvm_helper_signature bad_arg = {BPFVM_RET_INTEGER, {BPFVM_ARG_ANYTHING, -1, 0, 0, 0}};
  CHECK(bpfvm_vm_add_helper(vm, 0x10000, "x", add_secret, &state, &bad_arg, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_set_trace_sink(NULL, on_trace, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_set_current_task(NULL, 1, 2, 3, 4, "x", &err) == BPFVM_EINVALID_ARGUMENT);
  /* errors are optional */
  CHECK(bpfvm_vm_set_current_task(NULL, 1, 2, 3, 4, "x", NULL) == BPFVM_EINVALID_ARGUMENT);

  /* host helpers: user data, host data, failing a run, a signature the verifier checks */
  bpfvm_helper_signature sig = {BPFVM_RET_INTEGER,
                                {BPFVM_ARG_ANYTHING, BPFVM_ARG_DONTCARE, BPFVM_ARG_DONTCARE, BPFVM_ARG_DONTCARE,
                                 BPFVM_ARG_DONTCARE}};
  CHECK_OK(bpfvm_vm_add_helper(vm, 0x10000, "host_add_secret", add_secret, &state, &sig, &err));
  bpfvm_helper_signature mem_sig = {BPFVM_RET_INTEGER,
                                    {BPFVM_ARG_PTR_TO_MEM, BPFVM_ARG_CONST_SIZE, BPFVM_ARG_DONTCARE,
                                     BPFVM_ARG_DONTCARE, BPFVM_ARG_DONTCARE}};
  CHECK_OK(bpfvm_vm_add_helper(vm, 0x10001, NULL, probe_memory, NULL, &mem_sig, &err));

  bpfvm_object *obj = NULL;
  CHECK_OK(bpfvm_vm_open_assembly(vm, "ldxdw %r1, [%r1+0]\ncall 65536\nexit\n", BPFVM_PROG_TYPE_PLAIN, 8, "h",
                                  &obj, &err));
  for (int engine = BPFVM_ENGINE_INTERPRETER; engine <= BPFVM_ENGINE_JIT; ++engine) {
    bpfvm_program_options opts = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    opts.engine = engine;
    bpfvm_program *prog = NULL;
    CHECK_OK(bpfvm_object_load(obj, "h", &opts, &prog, &err));
    uint64_t in = 5, r0 = 0;
    CHECK_OK(bpfvm_program_run(prog, &in, sizeof in, &r0, &err));
    CHECK(r0 == 1005);
    int host_calls = 0;
    bpfvm_test_run run;
    memset(&run, 0, sizeof run);
    run.data_in = &in;
    run.data_size_in = sizeof in;
    run.repeat = 3;
    run.host_data = &host_calls;
    run.ns_per_run = -1; /* the run must fill it in (a mean time: never negative) */
    CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
    CHECK(run.r0 == 1005 && run.retval == 1005 && host_calls == 3);
    CHECK(run.ns_per_run >= 0);
    CHECK(run.cpu_ns_per_run > 0 && run.cpu_ns_per_run <= run.ns_per_run * 1.5 + 1000);
    in = 13;
    CHECK(bpfvm_program_run(prog, &in, sizeof in, &r0, &err) == BPFVM_EHELPER_FAULT);
    CHECK(err.code == BPFVM_EHELPER_FAULT && strstr(err.message, "unlucky number") && err.pc == 1);
    bpfvm_program_destroy(prog);
  }
  CHECK(state.calls == 2 * 5);
  bpfvm_object_destroy(obj);

  /* a program calling a helper with no registration is refused at load */
  CHECK_OK(bpfvm_vm_open_assembly(vm, "call 65599\nexit\n", BPFVM_PROG_TYPE_PLAIN, 0, "m", &obj, &err));
  bpfvm_program *prog = NULL;
  CHECK(bpfvm_object_load(obj, "m", NULL, &prog, &err) != BPFVM_OK && prog == NULL);
  CHECK(err.code != BPFVM_OK && err.message[0] != '\0');
  bpfvm_object_destroy(obj);

  /* helper_memory_ok: checked runs know the program's memory; unchecked runs trust the verifier */
  CHECK_OK(bpfvm_vm_open_assembly(vm, "mov %r2, 8\ncall 65537\nexit\n", BPFVM_PROG_TYPE_PLAIN, 8, "probe", &obj, &err));
  for (int checked = 0; checked <= 1; ++checked) {
    bpfvm_program_options opts = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    opts.checked = checked;
    CHECK_OK(bpfvm_object_load(obj, "probe", &opts, &prog, &err));
    uint64_t in = 0, r0 = 0;
    CHECK_OK(bpfvm_program_run(prog, &in, sizeof in, &r0, &err));
    CHECK(r0 == (checked ? 1u : 3u));
    bpfvm_program_destroy(prog);
  }
  bpfvm_object_destroy(obj);

  /* a host-defined program type: 16-byte context, the first word read-only, the second writable */
  {
    const bpfvm_context_field fields[] = {{0, 8, 0}, {8, 8, 1}};
    const bpfvm_host_program_type host = {"counter", 16, fields, 2};
    CHECK_OK(bpfvm_vm_open_assembly_host(vm, "ldxdw %r2, [%r1+0]\nadd %r2, 1\nstxdw [%r1+8], %r2\nmov %r0, %r2\nexit\n",
                                         &host, "count", &obj, &err));
    for (int engine = BPFVM_ENGINE_INTERPRETER; engine <= BPFVM_ENGINE_JIT; ++engine) {
      bpfvm_program_options opts = BPFVM_PROGRAM_OPTIONS_DEFAULT;
      opts.engine = engine;
      CHECK_OK(bpfvm_object_load(obj, "count", &opts, &prog, &err));
      uint64_t ctx[2] = {41, 0}, ctx_out[2] = {0, 0};
      bpfvm_test_run run;
      memset(&run, 0, sizeof run);
      run.ctx_in = ctx;
      run.ctx_size_in = sizeof ctx;
      run.ctx_out = ctx_out;
      run.ctx_size_out = sizeof ctx_out;
      CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
      CHECK(run.r0 == 42 && ctx_out[0] == 41 && ctx_out[1] == 42 && run.ctx_size_out == sizeof ctx_out);
      bpfvm_program_destroy(prog);
    }
    bpfvm_object_destroy(obj);
    /* a store to the read-only field is refused by the verifier */
    CHECK_OK(bpfvm_vm_open_assembly_host(vm, "stdw [%r1+0], 1\nmov %r0, 0\nexit\n", &host, "ro", &obj, &err));
    CHECK(bpfvm_object_load(obj, "ro", NULL, &prog, &err) != BPFVM_OK && prog == NULL);
    CHECK(strstr(err.message, "insn 0") != NULL);
    bpfvm_object_destroy(obj);
    CHECK(bpfvm_vm_open_assembly_host(vm, "exit\n", NULL, "x", &obj, &err) == BPFVM_EINVALID_ARGUMENT && obj == NULL);
  }

  /* accessors are NULL-safe */
  CHECK(bpfvm_helper_user_data(NULL) == NULL);
  CHECK(bpfvm_helper_host_data(NULL) == NULL);
  CHECK(bpfvm_helper_memory_ok(NULL, &state, 1, 0) == 0);
  CHECK(bpfvm_helper_fail(NULL, "x", &err) == BPFVM_EINVALID_ARGUMENT);

  /* trace sink: bpf_trace_printk("hi\n") */
  struct trace t = {{0}, 0};
  CHECK_OK(bpfvm_vm_set_trace_sink(vm, on_trace, &t, &err));
  const char *printk =
      "stw [%r10-8], 0xa6968\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 6\nmov %r0, 0\nexit\n";
  CHECK_OK(bpfvm_vm_open_assembly(vm, printk, BPFVM_PROG_TYPE_PLAIN, 0, "printk", &obj, &err));
  CHECK_OK(bpfvm_object_load(obj, "printk", NULL, &prog, &err));
  CHECK_OK(bpfvm_program_run(prog, NULL, 0, NULL, &err));
  CHECK(t.lines == 1 && strstr(t.text, "hi") != NULL);
  CHECK_OK(bpfvm_vm_set_trace_sink(vm, NULL, NULL, &err));
  CHECK_OK(bpfvm_program_run(prog, NULL, 0, NULL, &err));
  CHECK(t.lines == 1);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);

  /* set_current_task: bpf_get_current_pid_tgid() = tgid << 32 | pid */
  CHECK_OK(bpfvm_vm_set_current_task(vm, 77, 78, 1, 2, "embedded", &err));
  CHECK_OK(bpfvm_vm_open_assembly(vm, "call 14\nexit\n", BPFVM_PROG_TYPE_PLAIN, 0, "task", &obj, &err));
  CHECK_OK(bpfvm_object_load(obj, "task", NULL, &prog, &err));
  uint64_t r0 = 0;
  CHECK_OK(bpfvm_program_run(prog, NULL, 0, &r0, &err));
  CHECK(r0 == ((uint64_t)77 << 32 | 78));
  /* handles may be destroyed in any order */
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
  CHECK_OK(bpfvm_program_run(prog, NULL, 0, &r0, &err));
  CHECK(r0 == ((uint64_t)77 << 32 | 78));
  bpfvm_program_destroy(prog);
}

static void test_bytecode_and_load(void) {
  bpfvm_error err;
  bpfvm_vm *vm = NULL;
  CHECK_OK(bpfvm_vm_create(0, &vm, &err));
  bpfvm_object *obj = NULL;

  /* mov r0, 7; exit */
  static const unsigned char seven[] = {0xb7, 0, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0};
  CHECK(bpfvm_vm_open_bytecode(NULL, seven, sizeof seven, 0, 0, "seven", &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_bytecode(vm, seven, sizeof seven, 0, 0, "seven", NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_bytecode(vm, NULL, 16, 0, 0, "seven", &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_bytecode(vm, seven, sizeof seven - 1, 0, 0, "seven", &obj, &err) == BPFVM_EMALFORMED);
  CHECK(obj == NULL && err.code == BPFVM_EMALFORMED);
  CHECK(bpfvm_vm_open_bytecode(vm, seven, sizeof seven, 12345, 0, "seven", &obj, &err) != BPFVM_OK);
  CHECK_OK(bpfvm_vm_open_bytecode(vm, seven, sizeof seven, BPFVM_PROG_TYPE_PLAIN, 0, NULL, &obj, &err));

  size_t count = 0;
  const char *name = NULL;
  CHECK_OK(bpfvm_object_program_count(obj, &count, &err));
  CHECK(count == 1);
  CHECK_OK(bpfvm_object_program_name(obj, 0, &name, &err));
  CHECK(name && strcmp(name, "prog") == 0);
  CHECK(bpfvm_object_program_name(obj, 1, &name, &err) == BPFVM_EINVALID_ARGUMENT && name == NULL);
  CHECK(bpfvm_object_program_count(NULL, &count, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_program_count(obj, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_program_name(NULL, 0, &name, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_program_name(obj, 0, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK_OK(bpfvm_object_map_count(obj, &count, &err));
  CHECK(count == 0);
  bpfvm_map *map = NULL;
  CHECK(bpfvm_object_map_at(obj, 0, &map, &err) == BPFVM_EINVALID_ARGUMENT && map == NULL);
  CHECK(bpfvm_object_map(obj, "none", &map, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(strstr(err.message, "none") != NULL);
  CHECK(bpfvm_object_map(obj, NULL, &map, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_map(NULL, "x", &map, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_map_count(NULL, &count, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_map_at(NULL, 0, &map, &err) == BPFVM_EINVALID_ARGUMENT);

  bpfvm_program *prog = NULL;
  CHECK(bpfvm_object_load(obj, "nope", NULL, &prog, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(strstr(err.message, "no program 'nope'") != NULL);
  CHECK(bpfvm_object_load(NULL, "prog", NULL, &prog, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_load(obj, NULL, NULL, &prog, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_object_load(obj, "prog", NULL, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  bpfvm_program_options bad = BPFVM_PROGRAM_OPTIONS_DEFAULT;
  bad.engine = 7;
  CHECK(bpfvm_object_load(obj, "prog", &bad, &prog, &err) == BPFVM_EINVALID_ARGUMENT);
  bad.engine = BPFVM_ENGINE_INTERPRETER;
  bad.verifier_log_size = 10;
  CHECK(bpfvm_object_load(obj, "prog", &bad, &prog, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK_OK(bpfvm_object_load(obj, "prog", NULL, &prog, &err));
  uint64_t r0 = 0;
  CHECK_OK(bpfvm_program_run(prog, NULL, 0, &r0, &err));
  CHECK(r0 == 7);
  CHECK(bpfvm_program_run(NULL, NULL, 0, &r0, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_program_run(prog, NULL, 4, &r0, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_program_test_run(prog, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_program_test_run(NULL, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  bpfvm_test_run run;
  memset(&run, 0, sizeof run);
  run.data_size_in = 3;
  CHECK(bpfvm_program_test_run(prog, &run, &err) == BPFVM_EINVALID_ARGUMENT);
  run.data_size_in = 0;
  run.ctx_size_in = 3;
  CHECK(bpfvm_program_test_run(prog, &run, &err) == BPFVM_EINVALID_ARGUMENT);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);

  /* assembly: malformed text, a verifier rejection with its pc and log, budget, checked faults */
  CHECK(bpfvm_vm_open_assembly(vm, "frobnicate %r0\n", 0, 0, "bad", &obj, &err) == BPFVM_EMALFORMED);
  CHECK(bpfvm_vm_open_assembly(vm, NULL, 0, 0, "bad", &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_assembly(NULL, "exit\n", 0, 0, "bad", &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_assembly(vm, "exit\n", 0, 0, "bad", NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK_OK(bpfvm_vm_open_assembly(vm, "mov %r0, 0\nldxw %r0, [%r1+4]\nexit\n", 0, 4, "oob", &obj, &err));
  char log[4096];
  bpfvm_program_options opts = BPFVM_PROGRAM_OPTIONS_DEFAULT;
  opts.verifier_log_level = 1;
  opts.verifier_log = log;
  opts.verifier_log_size = sizeof log;
  log[0] = 'x';
  CHECK(bpfvm_object_load(obj, "oob", &opts, &prog, &err) == BPFVM_EREJECTED);
  CHECK(err.code == BPFVM_EREJECTED && err.pc == 1 && prog == NULL);
  CHECK(strlen(log) < sizeof log);
  opts = (bpfvm_program_options)BPFVM_PROGRAM_OPTIONS_DEFAULT;
  opts.verify = 0;
  opts.checked = 1;
  CHECK_OK(bpfvm_object_load(obj, "oob", &opts, &prog, &err));
  const unsigned char four[4] = {1, 2, 3, 4};
  CHECK(bpfvm_program_run(prog, four, sizeof four, &r0, &err) == BPFVM_EMEMORY_FAULT);
  CHECK(err.pc == 1);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);

  CHECK_OK(bpfvm_vm_open_assembly(vm, "mov %r0, 0\nadd %r0, 1\nadd %r0, 1\nexit\n", 0, 0, "b", &obj, &err));
  opts = (bpfvm_program_options)BPFVM_PROGRAM_OPTIONS_DEFAULT;
  opts.budget_insns = 2;
  opts.engine = BPFVM_ENGINE_JIT;
  CHECK_OK(bpfvm_object_load(obj, "b", &opts, &prog, &err));
  CHECK(bpfvm_program_run(prog, NULL, 0, &r0, &err) == BPFVM_EBUDGET_EXCEEDED);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);

  /* recursion without end: the verifier refuses it, an unverified run hits the call depth */
  CHECK_OK(bpfvm_vm_open_assembly(vm, "call local f\nexit\nf:\ncall local f\nexit\n", 0, 0, "deep", &obj, &err));
  opts = (bpfvm_program_options)BPFVM_PROGRAM_OPTIONS_DEFAULT;
  opts.verify = 0;
  if (bpfvm_object_load(obj, "deep", &opts, &prog, &err) == BPFVM_OK) {
    int s = bpfvm_program_run(prog, NULL, 0, &r0, &err);
    CHECK(s == BPFVM_ECALL_DEPTH || s == BPFVM_EBUDGET_EXCEEDED);
    bpfvm_program_destroy(prog);
  }
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

static void test_elf(const char *xdp_path, const char *globals_path) {
  bpfvm_error err;
  bpfvm_vm *vm = NULL;
  CHECK_OK(bpfvm_vm_create(4, &vm, &err));
  bpfvm_object *obj = NULL;

  CHECK(bpfvm_vm_open_elf_file(vm, "/nonexistent/x.bpf.o", NULL, &obj, &err) == BPFVM_EIO);
  CHECK(obj == NULL && strstr(err.message, "/nonexistent/x.bpf.o") != NULL);
  CHECK(bpfvm_vm_open_elf_file(vm, NULL, NULL, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_elf_file(NULL, xdp_path, NULL, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_elf_file(vm, xdp_path, NULL, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  static const unsigned char junk[64] = "not an ELF object";
  CHECK(bpfvm_vm_open_elf(vm, junk, sizeof junk, "junk", NULL, &obj, &err) == BPFVM_EMALFORMED);
  CHECK(obj == NULL && err.message[0] != '\0');
  CHECK(bpfvm_vm_open_elf(vm, NULL, 10, "junk", NULL, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_elf(NULL, junk, sizeof junk, "junk", NULL, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_vm_open_elf(vm, junk, sizeof junk, "junk", NULL, NULL, &err) == BPFVM_EINVALID_ARGUMENT);
  bpfvm_open_options bad_options = {NULL, 5, NULL, 0, NULL, 0, 0};
  CHECK(bpfvm_vm_open_elf_file(vm, xdp_path, &bad_options, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  bad_options.target_btf_size = 0;
  bad_options.kconfig_pairs = 1;
  CHECK(bpfvm_vm_open_elf_file(vm, xdp_path, &bad_options, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  const char *null_pair[] = {"CONFIG_HZ", NULL};
  bad_options.kconfig = null_pair;
  CHECK(bpfvm_vm_open_elf_file(vm, xdp_path, &bad_options, &obj, &err) == BPFVM_EINVALID_ARGUMENT);

  /* from memory, with (unused) options */
  size_t size = 0;
  unsigned char *elf = read_file(xdp_path, &size);
  CHECK(elf != NULL);
  if (!elf) return;
  const char *kconfig[] = {"CONFIG_HZ", "250"};
  bpfvm_open_options options = {NULL, 0, kconfig, 1, NULL, 0, 0};
  CHECK_OK(bpfvm_vm_open_elf(vm, elf, size, NULL, &options, &obj, &err));
  free(elf);

  size_t count = 0;
  const char *name = NULL;
  CHECK_OK(bpfvm_object_program_count(obj, &count, &err));
  CHECK(count == 1);
  CHECK_OK(bpfvm_object_program_name(obj, 0, &name, &err));
  CHECK(strcmp(name, "xdp_count") == 0);
  CHECK_OK(bpfvm_object_map_count(obj, &count, &err));
  CHECK(count == 1);
  bpfvm_map *rxcnt = NULL, *first = NULL;
  CHECK_OK(bpfvm_object_map(obj, "rxcnt", &rxcnt, &err));
  CHECK_OK(bpfvm_object_map_at(obj, 0, &first, &err));
  CHECK(rxcnt != NULL && rxcnt == first);
  bpfvm_map_info info;
  CHECK_OK(bpfvm_map_get_info(rxcnt, &info, &err));
  CHECK(strcmp(info.name, "rxcnt") == 0 && info.type == 6 /* BPF_MAP_TYPE_PERCPU_ARRAY */);
  CHECK(info.key_size == 4 && info.value_size == 8 && info.max_entries == 256);
  CHECK(info.host_value_size == 4 * 8);
  CHECK(bpfvm_map_get_info(NULL, &info, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_map_get_info(rxcnt, NULL, &err) == BPFVM_EINVALID_ARGUMENT);

  unsigned char drop[42], pass[42], out[64];
  udp_packet(drop, 9);
  udp_packet(pass, 53);
  for (int engine = BPFVM_ENGINE_INTERPRETER; engine <= BPFVM_ENGINE_JIT; ++engine) {
    bpfvm_program_options opts = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    opts.engine = engine;
    bpfvm_program *prog = NULL;
    CHECK_OK(bpfvm_object_load(obj, "xdp_count", &opts, &prog, &err));
    bpfvm_test_run run;
    memset(&run, 0, sizeof run);
    run.data_in = drop;
    run.data_size_in = sizeof drop;
    CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
    CHECK(run.retval == 1 /* XDP_DROP */ && run.data_size_out == sizeof drop && !run.redirected);
    memset(&run, 0, sizeof run);
    run.data_in = pass;
    run.data_size_in = sizeof pass;
    run.repeat = 3;
    run.data_out = out;
    run.data_size_out = sizeof out;
    CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
    CHECK(run.retval == 2 /* XDP_PASS */ && run.r0 == 2);
    CHECK(run.data_size_out == sizeof pass && memcmp(out, pass, sizeof pass) == 0);
    CHECK(run.insns_executed > 0 || engine == BPFVM_ENGINE_JIT);
    /* data_out too small: what fits, the size needed, and EINVALID_ARGUMENT (the kernel's ENOSPC) */
    memset(out, 0, sizeof out);
    run.repeat = 0;
    run.data_size_out = 10;
    CHECK(bpfvm_program_test_run(prog, &run, &err) == BPFVM_EINVALID_ARGUMENT);
    CHECK(run.data_size_out == sizeof pass && run.retval == 2 && memcmp(out, pass, 10) == 0 && out[10] == 0);
    bpfvm_program_destroy(prog);
  }

  /* the per-CPU counter: two engines x 3 passed + 1 (size-check) run, summed over CPUs */
  const uint32_t udp = 17;
  uint64_t values[4];
  CHECK(bpfvm_map_lookup(rxcnt, &udp, sizeof udp, values, sizeof values, &err) == 0);
  CHECK(err.code == BPFVM_OK);
  CHECK(values[0] + values[1] + values[2] + values[3] == 2 * 4);
  /* map misuse: -EINVAL plus the reason; errnos from the map itself are data */
  CHECK(bpfvm_map_lookup(rxcnt, &udp, sizeof udp, values, 8, &err) == -EINVAL);
  CHECK(err.code == BPFVM_EINVALID_ARGUMENT && strstr(err.message, "value holds 8 bytes"));
  CHECK(bpfvm_map_lookup(rxcnt, NULL, 4, values, sizeof values, &err) == -EINVAL);
  CHECK(bpfvm_map_lookup(NULL, &udp, 4, values, sizeof values, &err) == -EINVAL);
  CHECK(err.code == BPFVM_EINVALID_ARGUMENT);
  const uint32_t far = 1000;
  CHECK(bpfvm_map_lookup(rxcnt, &far, sizeof far, values, sizeof values, &err) == -ENOENT);
  CHECK(err.code == BPFVM_EERRNO && err.sys_errno == ENOENT && strcmp(err.message, "ENOENT") == 0);
  uint64_t set[4] = {1, 2, 3, 4};
  CHECK(bpfvm_map_update(rxcnt, &udp, sizeof udp, set, sizeof set, 0, &err) == 0);
  CHECK(bpfvm_map_lookup(rxcnt, &udp, sizeof udp, values, sizeof values, &err) == 0);
  CHECK(values[0] == 1 && values[3] == 4);
  CHECK(bpfvm_map_update(rxcnt, &udp, sizeof udp, set, sizeof set, 1 /* BPF_NOEXIST */, &err) == -EEXIST);
  CHECK(bpfvm_map_update(rxcnt, &far, sizeof far, set, sizeof set, 0, &err) == -E2BIG);
  CHECK(bpfvm_map_update(NULL, &udp, sizeof udp, set, sizeof set, 0, &err) == -EINVAL);
  CHECK(bpfvm_map_update(rxcnt, &udp, 2, set, sizeof set, 0, &err) == -EINVAL);
  CHECK(bpfvm_map_update(rxcnt, &udp, sizeof udp, NULL, sizeof set, 0, &err) == -EINVAL);
  CHECK(bpfvm_map_delete(rxcnt, &udp, sizeof udp, &err) == -EINVAL); /* arrays cannot delete */
  CHECK(err.code == BPFVM_EERRNO && err.sys_errno == EINVAL);
  CHECK(bpfvm_map_delete(NULL, &udp, sizeof udp, &err) == -EINVAL && err.code == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_map_delete(rxcnt, NULL, sizeof udp, &err) == -EINVAL && err.code == BPFVM_EINVALID_ARGUMENT);
  uint32_t key = 0, next = 99;
  CHECK(bpfvm_map_next_key(rxcnt, NULL, 0, &next, sizeof next, &err) == 0 && next == 0);
  key = 254;
  CHECK(bpfvm_map_next_key(rxcnt, &key, sizeof key, &next, sizeof next, &err) == 0 && next == 255);
  key = 255;
  CHECK(bpfvm_map_next_key(rxcnt, &key, sizeof key, &next, sizeof next, &err) == -ENOENT);
  CHECK(bpfvm_map_next_key(rxcnt, &key, sizeof key, NULL, 4, &err) == -EINVAL);
  CHECK(bpfvm_map_next_key(rxcnt, &key, 1, &next, sizeof next, &err) == -EINVAL);
  CHECK(bpfvm_map_next_key(NULL, &key, sizeof key, &next, sizeof next, &err) == -EINVAL);
  bpfvm_object_destroy(obj);

  /* a hash map (delete, next_key over entries) and global data from another object */
  CHECK_OK(bpfvm_vm_open_elf_file(vm, globals_path, NULL, &obj, &err));
  bpfvm_map *tuning = NULL;
  CHECK_OK(bpfvm_object_map(obj, ".data.tuning", &tuning, &err));
  uint32_t zero = 0, value = 0;
  if (tuning) {
    CHECK(bpfvm_map_lookup(tuning, &zero, sizeof zero, &value, sizeof value, &err) == 0 && value == 42);
  }
  bpfvm_map *rodata = NULL;
  CHECK_OK(bpfvm_object_map(obj, ".rodata", &rodata, &err));
  if (rodata) {
    CHECK(bpfvm_map_update(rodata, &zero, sizeof zero, &value, sizeof value, 0, &err) == -EPERM);
  }
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

/* verify_only: the object is verified with no map memory (no maps, runs refused); a cgroup hook's
 * test run reports the retval bpf_set_retval left, or -EPERM when the program denied. */
static void test_verify_only_and_cgroup_retval(const char *globals_path) {
  bpfvm_error err;
  bpfvm_vm *vm = NULL;
  bpfvm_object *obj = NULL;
  bpfvm_program *prog = NULL;
  CHECK_OK(bpfvm_vm_create(1, &vm, &err));
  bpfvm_open_options verify = {NULL, 0, NULL, 0, NULL, 0, 1};
  CHECK_OK(bpfvm_vm_open_elf_file(vm, globals_path, &verify, &obj, &err));
  size_t maps = 99;
  CHECK_OK(bpfvm_object_map_count(obj, &maps, &err));
  CHECK(maps == 0);
  CHECK_OK(bpfvm_object_load(obj, "xdp_main", NULL, &prog, &err));
  unsigned char packet[64] = {0};
  bpfvm_test_run run;
  memset(&run, 0, sizeof run);
  run.data_in = packet;
  run.data_size_in = sizeof packet;
  CHECK(bpfvm_program_test_run(prog, &run, &err) != BPFVM_OK);
  CHECK(strstr(err.message, "verify_only") != NULL);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);

  /* BPF_PROG_TYPE_CGROUP_SOCK (9): bpf_set_retval (187) then allow, deny, and an XDP run for contrast */
  static const char *const programs[] = {"mov %r1, -13\ncall 187\nmov %r0, 1\nexit\n", "mov %r0, 0\nexit\n",
                                         "mov %r0, 1\nexit\n"};
  static const int want[] = {-13, -EPERM, 0};
  for (int i = 0; i < 3; ++i) {
    obj = NULL;
    prog = NULL;
    CHECK_OK(bpfvm_vm_open_assembly(vm, programs[i], 9, 0, "sock_create", &obj, &err));
    CHECK_OK(bpfvm_object_load(obj, "sock_create", NULL, &prog, &err));
    unsigned char sock[80] = {0};
    memset(&run, 0, sizeof run);
    run.ctx_in = sock;
    run.ctx_size_in = sizeof sock;
    run.cgroup_retval = 12345;
    CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
    CHECK(run.has_cgroup_retval == 1 && run.cgroup_retval == want[i]);
    bpfvm_program_destroy(prog);
    bpfvm_object_destroy(obj);
  }
  obj = NULL;
  prog = NULL;
  CHECK_OK(bpfvm_vm_open_assembly(vm, "mov %r0, 2\nexit\n", 6 /* XDP */, 0, "xdp", &obj, &err));
  CHECK_OK(bpfvm_object_load(obj, "xdp", NULL, &prog, &err));
  memset(&run, 0, sizeof run);
  run.data_in = packet;
  run.data_size_in = sizeof packet;
  run.has_cgroup_retval = 7;
  CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
  CHECK(run.retval == 2 && run.has_cgroup_retval == 0 && run.cgroup_retval == 0);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

/* A hash map (maps.bpf.o's "flows"): insert, walk with next_key, delete, errnos as the kernel's. */
static void test_hash_map(const char *maps_path) {
  bpfvm_error err;
  bpfvm_vm *vm = NULL;
  bpfvm_object *obj = NULL;
  CHECK_OK(bpfvm_vm_create(1, &vm, &err));
  CHECK_OK(bpfvm_vm_open_elf_file(vm, maps_path, NULL, &obj, &err));
  bpfvm_map *flows = NULL;
  CHECK_OK(bpfvm_object_map(obj, "flows", &flows, &err));
  bpfvm_map_info info;
  CHECK_OK(bpfvm_map_get_info(flows, &info, &err));
  CHECK(info.type == 1 /* BPF_MAP_TYPE_HASH */ && info.value_size == 8 && info.key_size <= 64);
  if (!flows || info.key_size > 64) return;
  unsigned char key[64], next[64];
  uint64_t value = 0;
  memset(key, 0, sizeof key);
  CHECK(bpfvm_map_next_key(flows, NULL, 0, next, info.key_size, &err) == -ENOENT); /* empty */
  for (unsigned char k = 1; k <= 3; ++k) {
    key[0] = k;
    value = 100u + k;
    CHECK(bpfvm_map_update(flows, key, info.key_size, &value, sizeof value, 0, &err) == 0);
  }
  key[0] = 2;
  CHECK(bpfvm_map_update(flows, key, info.key_size, &value, sizeof value, 1 /* BPF_NOEXIST */, &err) == -EEXIST);
  key[0] = 9;
  CHECK(bpfvm_map_update(flows, key, info.key_size, &value, sizeof value, 2 /* BPF_EXIST */, &err) == -ENOENT);
  int seen = 0;
  const void *cursor = NULL;
  while (bpfvm_map_next_key(flows, cursor, cursor ? info.key_size : 0, next, info.key_size, &err) == 0) {
    CHECK(bpfvm_map_lookup(flows, next, info.key_size, &value, sizeof value, &err) == 0);
    CHECK(value == 100u + next[0]);
    memcpy(key, next, info.key_size);
    cursor = key;
    if (++seen > 3) break;
  }
  CHECK(seen == 3 && err.code == BPFVM_EERRNO && err.sys_errno == ENOENT); /* the walk's end */
  key[0] = 2;
  memset(key + 1, 0, info.key_size - 1);
  CHECK(bpfvm_map_delete(flows, key, info.key_size, &err) == 0);
  CHECK(bpfvm_map_delete(flows, key, info.key_size, &err) == -ENOENT && err.code == BPFVM_EERRNO &&
        err.sys_errno == ENOENT);
  CHECK(bpfvm_map_lookup(flows, key, info.key_size, &value, sizeof value, &err) == -ENOENT);

  /* Lookup-and-delete, and the batch commands (libbpf's shapes). */
  key[0] = 3;
  CHECK(bpfvm_map_lookup_and_delete(flows, key, info.key_size, &value, sizeof value, &err) == 0 && value == 103u);
  CHECK(bpfvm_map_lookup_and_delete(flows, key, info.key_size, &value, sizeof value, &err) == -ENOENT &&
        err.sys_errno == ENOENT);
  unsigned char keys[4 * 64];
  uint64_t values[4];
  memset(keys, 0, sizeof keys);
  for (int i = 0; i < 4; ++i) keys[i * info.key_size] = (unsigned char)(20 + i), values[i] = 200u + (unsigned)i;
  uint32_t count = 4;
  CHECK(info.key_size <= 64 && info.batch_cursor_size == 4);
  CHECK(bpfvm_map_update_batch(flows, keys, values, &count, 0, &err) == 0 && count == 4);
  unsigned char got_keys[16 * 64];
  uint64_t got_values[16];
  uint32_t in_batch = 0, out_batch = 0, total = 0;
  int rc = 0;
  for (int calls = 0; calls < 100 && rc == 0; ++calls) {
    count = 16;
    rc = bpfvm_map_lookup_batch(flows, calls ? &in_batch : NULL, &out_batch, got_keys, got_values, &count, 0, &err);
    for (uint32_t i = 0; i < count; ++i) CHECK(got_values[i] == 100u + got_keys[i * info.key_size] ||
                                               got_values[i] == 180u + got_keys[i * info.key_size]);
    total += count;
    in_batch = out_batch;
  }
  CHECK(rc == -ENOENT && err.sys_errno == ENOENT);
  CHECK(total == 5); /* key 1, what the test left, and the 4 batch-inserted ones */
  count = 4;
  CHECK(bpfvm_map_delete_batch(flows, keys, &count, &err) == 0 && count == 4);
  count = 1;
  CHECK(bpfvm_map_delete_batch(flows, keys, &count, &err) == -ENOENT && count == 0 && err.sys_errno == ENOENT);
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

/* fd_maps.bpf.o: cgroup and AF_XDP socket slots from the host (bpfvm_map_set_cgroup/_set_xsk), read
 * back by bpf_skb_under_cgroup (slot skb->mark) and bpf_redirect_map. */
static void test_fd_maps(const char *path) {
  bpfvm_error err;
  bpfvm_vm *vm = NULL;
  CHECK_OK(bpfvm_vm_create(0, &vm, &err));
  bpfvm_object *obj = NULL;
  const char *templates[] = {"outer", "inner"};
  bpfvm_open_options no_such_map = {NULL, 0, NULL, 0, templates, 1, 0};
  CHECK(bpfvm_vm_open_elf_file(vm, path, &no_such_map, &obj, &err) == BPFVM_EINVALID_ARGUMENT);
  CHECK(obj == NULL && strstr(err.message, "no map 'outer'") != NULL);
  CHECK_OK(bpfvm_vm_open_elf_file(vm, path, NULL, &obj, &err));
  if (!obj) return;
  bpfvm_map *cgroups = NULL, *xsks = NULL;
  CHECK_OK(bpfvm_object_map(obj, "cgroups", &cgroups, &err));
  CHECK_OK(bpfvm_object_map(obj, "xsks", &xsks, &err));
  CHECK(bpfvm_map_set_cgroup(cgroups, 0, 7, 1, &err) == 0);
  CHECK(bpfvm_map_set_cgroup(cgroups, 1, 8, 0, &err) == 0);
  CHECK(bpfvm_map_set_cgroup(cgroups, 2, 9, 1, &err) == -E2BIG);
  CHECK(bpfvm_map_set_cgroup(xsks, 0, 9, 1, &err) == -EINVAL);
  CHECK(bpfvm_map_set_cgroup(NULL, 0, 9, 1, &err) == -EINVAL && err.code == BPFVM_EINVALID_ARGUMENT);
  CHECK(bpfvm_map_set_xsk(cgroups, 0, 3, &err) == -EINVAL);
  CHECK(bpfvm_map_set_xsk(xsks, 2, 3, &err) == -E2BIG);
  CHECK(bpfvm_map_set_xsk(NULL, 0, 3, &err) == -EINVAL && err.code == BPFVM_EINVALID_ARGUMENT);

  bpfvm_program *prog = NULL;
  CHECK_OK(bpfvm_object_load(obj, "under_cgroup", NULL, &prog, &err));
  unsigned char packet[64] = {0};
  struct __sk_buff ctx;
  bpfvm_test_run run;
  const int64_t want[] = {1, 0, -E2BIG};
  for (uint32_t mark = 0; mark < 3 && prog; ++mark) {
    memset(&ctx, 0, sizeof ctx);
    ctx.mark = mark;
    memset(&run, 0, sizeof run);
    run.data_in = packet;
    run.data_size_in = sizeof packet;
    run.ctx_in = &ctx;
    run.ctx_size_in = sizeof ctx;
    CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
    CHECK((int64_t)run.r0 == want[mark]);
  }
  bpfvm_program_destroy(prog);

  prog = NULL;
  CHECK_OK(bpfvm_object_load(obj, "to_xsk", NULL, &prog, &err));
  memset(&run, 0, sizeof run);
  run.data_in = packet;
  run.data_size_in = sizeof packet;
  CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
  CHECK(run.retval == XDP_PASS); /* slot 0 empty */
  CHECK(bpfvm_map_set_xsk(xsks, 0, 3, &err) == 0);
  CHECK_OK(bpfvm_program_test_run(prog, &run, &err));
  CHECK(run.retval == XDP_REDIRECT);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s xdp_parse.bpf.o globals_subprog.bpf.o maps.bpf.o fd_maps.bpf.o\n", argv[0]);
    return 2;
  }
  test_errors_and_vm();
  test_bytecode_and_load();
  test_elf(argv[1], argv[2]);
  test_verify_only_and_cgroup_retval(argv[2]);
  test_hash_map(argv[3]);
  test_fd_maps(argv[4]);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C API: all checks passed\n");
  return 0;
}
