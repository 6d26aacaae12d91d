// sk_reuseport: bpf_sk_select_reuseport on a REUSEPORT_SOCKARRAY, a SOCKMAP and a SOCKHASH, and every
// field of struct sk_reuseport_md. ctx->hash picks the map (bits 8-9: 0 array, 1 sockmap, 2 sockhash)
// and the key (bits 0-7); `seen` records the helper's answer and what the program read.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reuse_array SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reuse_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} reuse_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 12);
  __type(key, __u32);
  __type(value, __s64);
} seen SEC(".maps");

static void record(__u32 slot, __s64 value) { bpf_map_update_elem(&seen, &slot, &value, BPF_ANY); }

SEC("sk_reuseport")
int select_by_hash(struct sk_reuseport_md *md) {
  __u32 key = md->hash & 0xff, which = (md->hash >> 8) & 3;
  long rc;
  if (which == 0)
    rc = bpf_sk_select_reuseport(md, &reuse_array, &key, 0);
  else if (which == 1)
    rc = bpf_sk_select_reuseport(md, &reuse_map, &key, 0);
  else
    rc = bpf_sk_select_reuseport(md, &reuse_hash, &key, 0);
  record(0, rc);
  record(1, md->len);
  record(2, md->eth_protocol);
  record(3, md->ip_protocol);
  record(4, md->bind_inany);
  struct bpf_sock *sk = md->sk;
  record(5, (__s64)sk->family << 32 | sk->protocol << 16 | sk->state);
  record(6, sk->src_port);
  record(7, md->migrating_sk == 0);
  unsigned char *data = md->data, *end = md->data_end;
  record(8, data + 4 <= end ? (__s64)(data[2] << 8 | data[3]) : -1);  // the destination port
  record(9, *(volatile __u16 *)&md->eth_protocol);
  // The helpers' reads: the destination port from the L4 header, the IP protocol from the network
  // header, the EtherType from the MAC header, and one past the packet (-EFAULT).
  __u8 buf[4];
  long a = bpf_skb_load_bytes(md, 2, buf, 2);
  record(10, a == 0 ? (__s64)(buf[0] << 8 | buf[1]) : a);
  long b = bpf_skb_load_bytes_relative(md, 9, buf, 1, BPF_HDR_START_NET);
  __s64 packed = b == 0 ? buf[0] : 0xff;
  long c = bpf_skb_load_bytes_relative(md, 12, buf, 2, BPF_HDR_START_MAC);
  packed |= c == 0 ? (__s64)(buf[0] << 8 | buf[1]) << 8 : 0;
  long d = bpf_skb_load_bytes(md, 22, buf, 4);
  packed |= (__s64)(d == -14 && buf[0] == 0) << 24;
  record(11, packed);
  return rc == 0 ? SK_PASS : SK_DROP;
}

char LICENSE[] SEC("license") = "GPL";
