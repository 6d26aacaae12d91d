/* Program sections with code and no function symbol, as older clang emitted them: written with
 * file-scope assembly so no symbol marks the code. iproute2, bcc and older libbpf load each such
 * section as one program named after the section. The map reference is an lddw relocated against
 * the map's symbol. */
#include "legacy_helpers.h"

struct bpf_elf_map SEC("maps") hits = {
    .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 1, .pinning = PIN_GLOBAL_NS,
};

asm(".section \"socket/1\",\"ax\",@progbits\n"
    "  r6 = r1\n"
    "  r1 = 0\n"
    "  *(u32 *)(r10 - 4) = r1\n"
    "  r2 = r10\n"
    "  r2 += -4\n"
    "  r1 = hits ll\n"
    "  call 1\n"
    "  if r0 == 0 goto +2\n"
    "  r1 = 1\n"
    "  lock *(u64 *)(r0 + 0) += r1\n"
    "  r0 = *(u32 *)(r6 + 0)\n"
    "  exit\n"
    ".section \"xdp/nosym\",\"ax\",@progbits\n"
    "  r0 = 2\n"
    "  exit\n"
    ".section \"classifier\",\"ax\",@progbits\n"
    "  r0 = *(u32 *)(r1 + 76)\n"
    "  r0 = *(u8 *)(r0 + 0)\n"
    "  exit\n"
    ".text\n");

char _license[] SEC("license") = "GPL";
