/* iproute2's tail calls (examples/bpf/bpf_tailcall.c): a prog_array bpf_elf_map with an id, and
 * programs in sections named "<id>/<key>" (C integers: "0x7/03" is 7/3), which tc places into
 * that map at that key. */
#include "legacy_helpers.h"

#define JMP_ID 7

struct bpf_elf_map SEC("maps") jmp_tc = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 4, .id = JMP_ID,
    .pinning = PIN_GLOBAL_NS,
};

SEC("7/0") int tail_zero(struct __sk_buff *skb) { return 40 + (skb->len > 1000); }

SEC("0x7/03") static int tail_three(struct __sk_buff *skb) { return 43; }

SEC("classifier") int cls_entry(struct __sk_buff *skb) {
  bpf_tail_call(skb, &jmp_tc, skb->mark);
  return 1;
}

char __license[] SEC("license") = "GPL";
