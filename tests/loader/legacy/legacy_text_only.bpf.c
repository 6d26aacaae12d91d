/* No SEC() at all: the programs sit in .text, as in small test programs built with a bare
 * `clang -target bpf`. libbpf before 0.2 loaded .text as a program when nothing called into it;
 * the type comes from the command (--type). */
#include <linux/bpf.h>

int filter_short(struct __sk_buff *skb) { return skb->len < 60 ? 0 : -1; }

int filter_proto(struct __sk_buff *skb) { return skb->protocol == 0xdd86 ? -1 : 0; }
