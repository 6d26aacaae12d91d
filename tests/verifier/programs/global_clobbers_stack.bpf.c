// verdict: reject
// error: math between pkt pointer and register with unbounded min value is not allowed
// After the call, the buffer the caller passed holds whatever the callee wrote: buf[0] is an unknown
// scalar, so adding it to a packet pointer is refused (check_reg_sane_offset: unbounded min value).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int fill(long *p) {
  if (!p) return 0;
  p[0] = 1000;
  return 0;
}

SEC("xdp")
int xdp_clobbers_stack(struct xdp_md *ctx) {
  long buf[2] = {0, 0};
  fill(buf);
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + 1 > end) return XDP_DROP;
  return data[buf[0]] & 3;
}

char LICENSE[] SEC("license") = "GPL";
