// bpf_fib_lookup from tc and XDP on a host that does not forward (the test checks the sysctls): the
// error order (plen, then flags, then family, then the device) and the loopback's answer
// (BPF_FIB_LKUP_RET_FWD_DISABLED). Cilium's bpf_probes.c asks the kernel this way whether a flag is
// known (fib_lookup(..., BPF_FIB_LOOKUP_SKIP_NEIGH) < 0). Each call's answer is summed into a global;
// family and ifindex also come from the packet's length, so both sides see varied arguments.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define AF_INET6 10

__s64 lo4, lo6, skip_neigh, all_flags, unknown_flag, short_plen, bad_family, no_device, bad_flag_no_device,
    by_len;

static __always_inline long lookup(void *ctx, __u8 family, __u32 ifindex, int plen, __u32 flags) {
  struct bpf_fib_lookup p = {};
  p.family = family;
  p.ifindex = ifindex;
  p.tot_len = 1500;
  return bpf_fib_lookup(ctx, &p, plen, flags);
}

static __always_inline long probe(void *ctx, __u32 ctx_ifindex, __u32 len) {
  const int full = sizeof(struct bpf_fib_lookup);
  long r = lookup(ctx, AF_INET, ctx_ifindex, full, 0);
  lo4 += r;
  lo6 += lookup(ctx, AF_INET6, 1, full, BPF_FIB_LOOKUP_DIRECT);
  skip_neigh += lookup(ctx, AF_INET, 1, full, 1u << 2);     /* BPF_FIB_LOOKUP_SKIP_NEIGH */
  all_flags += lookup(ctx, AF_INET6, 1, full, 0x3f);         /* DIRECT .. MARK */
  unknown_flag += lookup(ctx, AF_INET, 1, full, 1u << 6);
  short_plen += lookup(ctx, AF_INET, 1, 32, 0);
  bad_family += lookup(ctx, 3, 1, full, 0);
  no_device += lookup(ctx, AF_INET6, 4242, full, 0);
  bad_flag_no_device += lookup(ctx, 7, 4242, full, 1u << 9);
  /* devices other than lo exist on the host, not in a bpfvm run: the varied ifindex is 1 or none */
  by_len += lookup(ctx, (len & 1) ? AF_INET : AF_INET6, (len & 2) ? 1 : 4242, full, len & 0x41);
  return r;
}

SEC("tc")
int fib_tc(struct __sk_buff *skb) {
  return probe(skb, skb->ifindex, skb->len);
}

SEC("xdp")
int fib_xdp(struct xdp_md *ctx) {
  long r = probe(ctx, ctx->ingress_ifindex, (__u32)(ctx->data_end - ctx->data));
  return r == BPF_FIB_LKUP_RET_FWD_DISABLED ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
