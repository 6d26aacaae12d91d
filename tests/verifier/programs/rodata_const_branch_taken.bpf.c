// verdict: reject
// error: invalid access to map value
// As rodata_const_branch, with the flag set: the constant read from .rodata makes the bad branch the
// only path, and its read past the 8-byte value is refused.
#include "rodata_flags.h"

const volatile __u8 read_past = 1;

SEC("socket")
int rodata_const_branch_taken(struct __sk_buff *skb) {
  return read_past_value_if(read_past);
}

char LICENSE[] SEC("license") = "GPL";
