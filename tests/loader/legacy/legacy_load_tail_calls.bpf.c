/* samples/bpf (bpf_load.c) tail calls, as sockex3_kern.c and tracex5_kern.c wrote them: programs in
 * sections "socket/<N>" go into the object's last prog_array, in section order, at N;
 * a 16-byte struct bpf_map_def as the 4.x samples declared it. */
#include "legacy_helpers.h"

struct bpf_map_def16 {
  unsigned int type, key_size, value_size, max_entries;
};

struct bpf_map_def16 SEC("maps") other_progs = {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4};
struct bpf_map_def16 SEC("maps") jmp_table = {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8};

SEC("socket/2") int parse_two(struct __sk_buff *skb) { return 22; }

SEC("socket/07") static int parse_seven(struct __sk_buff *skb) { return 77; }

SEC("socket/9") int past_the_end(struct __sk_buff *skb) { return 99; }


SEC("socket/0") int main_prog(struct __sk_buff *skb) {
  bpf_tail_call(skb, &jmp_table, skb->len > 100 ? 7 : 2);
  bpf_tail_call(skb, &other_progs, 2);
  return 1;
}

char _license[] SEC("license") = "GPL";
