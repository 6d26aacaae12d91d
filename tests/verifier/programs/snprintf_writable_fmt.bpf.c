// verdict: reject
// error: does not point to a readonly map
// A format in .data (a writable global) is no constant string: the program could change it after load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char fmt[] = "%d";

SEC("xdp")
int snprintf_writable_fmt(struct xdp_md *ctx) {
  char out[16];
  __u64 args[1] = {ctx->ingress_ifindex};
  return bpf_snprintf(out, sizeof(out), fmt, args, sizeof(args)) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
