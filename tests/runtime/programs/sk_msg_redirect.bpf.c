// An sk_msg verdict program in the style of a sockmap proxy: redirect each message to the socket a
// SOCKMAP slot or a SOCKHASH key names. The slot/key comes from sk_msg_md.remote_ip4, the flags from
// local_port, so one program exercises every case; the verdict is the helper's answer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} sock_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} sock_hash SEC(".maps");

SEC("sk_msg")
int redirect(struct sk_msg_md *msg) {
  __u32 key = msg->remote_ip4;
  __u64 flags = msg->local_port;
  if (msg->remote_port == 1) return bpf_msg_redirect_hash(msg, &sock_hash, &key, flags);
  return bpf_msg_redirect_map(msg, &sock_map, key, flags);
}

char LICENSE[] SEC("license") = "GPL";
