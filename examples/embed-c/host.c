/* Embedding bpfvm from C: register a host helper, load an XDP program from an object file, run it on
 * a few packets, read its map. Usage: embed_c flow_hash.bpf.o [jit] */
#include <bpfvm/bpfvm.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NR_BUCKETS 8

/* Helper 0x10000: hash(value, seed), FNV-1a over value's 8 bytes. Counts its calls through the
 * `user` pointer it was registered with. */
static uint64_t host_hash(uint64_t value, uint64_t seed, uint64_t r3, uint64_t r4, uint64_t r5,
                          bpfvm_helper_call *call) {
  (void)r3, (void)r4, (void)r5;
  unsigned long *calls = bpfvm_helper_user_data(call);
  ++*calls;
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (int i = 0; i < 8; ++i) {
    h ^= (value >> (8 * i)) & 0xff;
    h *= 0x100000001b3ull;
  }
  return h;
}

/* Ethernet + IPv4 header from 10.0.0.<src>; ethertype 0x0806 (ARP) when arp is set. */
static void make_packet(unsigned char p[34], unsigned src, int arp) {
  memset(p, 0, 34);
  p[12] = 0x08;
  p[13] = arp ? 0x06 : 0x00;
  p[14] = 0x45;           /* IPv4, 20-byte header */
  p[23] = 17;             /* UDP */
  p[26] = 10, p[29] = (unsigned char)src;  /* saddr 10.0.0.src */
  p[30] = 10, p[33] = 1;                   /* daddr 10.0.0.1 */
}

static int fail(const char *what, int status, const bpfvm_error *err) {
  fprintf(stderr, "%s: %s (%s)\n", what, err->message, bpfvm_strerror(status));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s flow_hash.bpf.o [jit]\n", argv[0]);
    return 2;
  }
  bpfvm_error err;
  bpfvm_vm *vm = NULL;
  bpfvm_object *obj = NULL;
  bpfvm_program *prog = NULL;
  bpfvm_runner *runner = NULL;
  int status, rc = 1;

  if ((status = bpfvm_vm_create(0, &vm, &err))) return fail("create", status, &err);

  /* The verifier checks each call against this signature: two scalars in, a scalar out. */
  unsigned long calls = 0;
  bpfvm_helper_signature sig = {BPFVM_RET_INTEGER,
                                {BPFVM_ARG_ANYTHING, BPFVM_ARG_ANYTHING, BPFVM_ARG_DONTCARE,
                                 BPFVM_ARG_DONTCARE, BPFVM_ARG_DONTCARE}};
  if ((status = bpfvm_vm_add_helper(vm, 0x10000, "host_hash", host_hash, &calls, &sig, &err))) {
    fail("add_helper", status, &err);
    goto out;
  }

  if ((status = bpfvm_vm_open_elf_file(vm, argv[1], NULL, &obj, &err))) {
    fail(argv[1], status, &err);
    goto out;
  }
  const char *name = NULL;
  if ((status = bpfvm_object_program_name(obj, 0, &name, &err))) {
    fail("program", status, &err);
    goto out;
  }

  bpfvm_program_options opts = BPFVM_PROGRAM_OPTIONS_DEFAULT;
  if (argc > 2 && strcmp(argv[2], "jit") == 0) opts.engine = BPFVM_ENGINE_JIT;
  if ((status = bpfvm_object_load(obj, name, &opts, &prog, &err))) {
    fail(name, status, &err); /* e.g. "insn 12: R1 invalid mem access 'scalar'" */
    goto out;
  }

  /* 12 IPv4 packets from 6 sources, one ARP frame, one runt. A runner kept for every event holds
   * the run's context and buffers: a call copies the packet in, runs and returns r0 (no allocation). */
  static const char *verdicts[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};
  if ((status = bpfvm_runner_new(prog, &runner, &err))) {
    fail("runner", status, &err);
    goto out;
  }
  unsigned char packet[34];
  for (int i = 0; i < 14; ++i) {
    make_packet(packet, 2 + (unsigned)i % 6, i == 12);
    uint64_t verdict = 0;
    if ((status = bpfvm_runner_run(runner, packet, i == 13 ? 20 : sizeof packet, &verdict, &err))) {
      fail("run", status, &err);
      goto out;
    }
    printf("packet %2d: %s\n", i, verdict < 5 ? verdicts[verdict] : "?");
  }

  bpfvm_map *buckets = NULL;
  if ((status = bpfvm_object_map(obj, "buckets", &buckets, &err))) {
    fail("map", status, &err);
    goto out;
  }
  /* Every bucket in one batch call, as libbpf's bpf_map_lookup_batch: -ENOENT says the walk ended. */
  uint32_t keys[NR_BUCKETS], count = NR_BUCKETS;
  uint64_t counts[NR_BUCKETS], total = 0;
  uint8_t cursor[8]; /* bpfvm_map_info::batch_cursor_size bytes (4 for an array's u32 key) */
  int batch = bpfvm_map_lookup_batch(buckets, NULL, cursor, keys, counts, &count, 0, &err);
  if (batch != 0 && batch != -ENOENT) {
    fprintf(stderr, "batch: %s\n", err.message);
    goto out;
  }
  for (uint32_t i = 0; i < count; ++i) {
    printf("bucket %u: %llu\n", keys[i], (unsigned long long)counts[i]);
    total += counts[i];
  }
  /* A map errno is both the return value and, in err, BPFVM_EERRNO with sys_errno. */
  uint32_t past = NR_BUCKETS;
  uint64_t value = 0;
  const int missing = bpfvm_map_lookup(buckets, &past, sizeof past, &value, sizeof value, &err);
  printf("lookup of key %u: %d (%s, sys_errno %d)\n", past, missing, err.message, err.sys_errno);
  printf("total %llu, host_hash calls %lu\n", (unsigned long long)total, calls);
  rc = total == 12 && calls == 12 && missing == -ENOENT && err.code == BPFVM_EERRNO && err.sys_errno == ENOENT ? 0 : 1;

out:
  bpfvm_runner_destroy(runner);
  bpfvm_program_destroy(prog);
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
  return rc;
}
