// verdict: accept
// bpf_snprintf's format is ARG_PTR_TO_CONST_STR: a NUL-terminated string in a frozen read-only map
// (.rodata), whose conversions the kernel checks at load against the data_len / 8 values given.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static const char fmt[] = "if %d, queue %u: %pI4";

SEC("xdp")
int snprintf_const_fmt(struct xdp_md *ctx) {
  char out[48];
  __u64 args[3] = {ctx->ingress_ifindex, ctx->rx_queue_index, 0};
  return bpf_snprintf(out, sizeof(out), fmt, args, sizeof(args)) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
