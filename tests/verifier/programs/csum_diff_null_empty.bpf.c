// verdict: accept
// bpf_csum_diff's buffers are ARG_PTR_TO_MEM | PTR_MAYBE_NULL: NULL with a zero size is allowed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int csum_diff_null_empty(struct __sk_buff *skb) {
  return (int)bpf_csum_diff(0, 0, 0, 0, skb->len) & 1;
}

char LICENSE[] SEC("license") = "GPL";
