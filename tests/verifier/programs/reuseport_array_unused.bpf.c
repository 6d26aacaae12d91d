// verdict: accept
// An object holding a REUSEPORT_SOCKARRAY that this program does not use: the map is created at load
// (it was refused before: not implemented).
#include "reuseport_array.h"

SEC("socket")
int reuseport_array_unused(struct __sk_buff *skb) { return skb->len > 64; }

char LICENSE[] SEC("license") = "GPL";
