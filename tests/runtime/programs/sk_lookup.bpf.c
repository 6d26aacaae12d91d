// sk_lookup: reads every struct bpf_sk_lookup field, also in narrow widths (a byte, a half, remote_port's
// word with its padding), records them and bpf_sk_assign's answers for NULL (bad flags, none, REPLACE |
// NO_REUSEPORT) in a global, and drops connections to local port 7777 or UDP from remote port 53.
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct seen {
  __u64 runs;
  __u32 sk_null, family, protocol, remote_ip4, local_ip4, local_port, ingress_ifindex, remote_port_word;
  __u32 remote_ip6[4], local_ip6[4];
  __u16 remote_port, padding, family_high, local_port_low, protocol_high, local_port_high;
  __u8 family_byte, remote_port_byte1, local_port_byte1, remote_ip6_byte5, local_ip4_byte3, protocol_byte0;
  __u8 local_port_byte2, family_byte3;
  __s64 assign_bad_flags, assign_none, assign_replace;
};
struct seen seen = {};

#define NARROW(type, field, byte) (*(volatile type *)((volatile char *)&ctx->field + (byte)))

SEC("sk_lookup")
int lookup(struct bpf_sk_lookup *ctx) {
  seen.runs++;
  seen.sk_null = ctx->sk == 0;
  seen.family = ctx->family;
  seen.protocol = ctx->protocol;
  seen.remote_ip4 = ctx->remote_ip4;
  seen.local_ip4 = ctx->local_ip4;
  seen.local_port = ctx->local_port;
  seen.ingress_ifindex = ctx->ingress_ifindex;
  seen.remote_port_word = NARROW(__u32, remote_port, 0);
  for (int i = 0; i < 4; i++) {
    seen.remote_ip6[i] = ctx->remote_ip6[i];
    seen.local_ip6[i] = ctx->local_ip6[i];
  }
  seen.remote_port = NARROW(__u16, remote_port, 0);
  seen.padding = NARROW(__u16, remote_port, 2);
  seen.family_high = NARROW(__u16, family, 2);
  seen.local_port_low = NARROW(__u16, local_port, 0);
  seen.protocol_high = NARROW(__u16, protocol, 2);
  seen.local_port_high = NARROW(__u16, local_port, 2);
  seen.local_port_byte2 = NARROW(__u8, local_port, 2);
  seen.family_byte3 = NARROW(__u8, family, 3);
  seen.family_byte = NARROW(__u8, family, 0);
  seen.remote_port_byte1 = NARROW(__u8, remote_port, 1);
  seen.local_port_byte1 = NARROW(__u8, local_port, 1);
  seen.remote_ip6_byte5 = NARROW(__u8, remote_ip6, 5);
  seen.local_ip4_byte3 = NARROW(__u8, local_ip4, 3);
  seen.protocol_byte0 = NARROW(__u8, protocol, 0);
  seen.assign_bad_flags = bpf_sk_assign(ctx, 0, 4);
  seen.assign_none = bpf_sk_assign(ctx, 0, 0);
  seen.assign_replace = bpf_sk_assign(ctx, 0, BPF_SK_LOOKUP_F_REPLACE | BPF_SK_LOOKUP_F_NO_REUSEPORT);
  if (ctx->local_port == 7777) return SK_DROP;
  if (ctx->protocol == 17 && ctx->remote_port == bpf_htons(53)) return SK_DROP;
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
