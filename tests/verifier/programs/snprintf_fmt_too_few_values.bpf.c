// verdict: reject
// error: Invalid format string
// Two conversions and one value: the kernel's bpf_bprintf_prepare refuses the format at load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static const char fmt[] = "%d %d";

SEC("xdp")
int snprintf_fmt_too_few_values(struct xdp_md *ctx) {
  char out[16];
  __u64 args[1] = {ctx->ingress_ifindex};
  return bpf_snprintf(out, sizeof(out), fmt, args, sizeof(args)) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
