// lwt_xmit encapsulation in the way route-level tunnels push a link-layer header: bpf_skb_change_head by an
// amount the packet chooses (0..31 bytes, then 14 more for an Ethernet header), the header written with
// bpf_skb_store_bytes, bpf_skb_change_tail growing or cutting the end, bytes read back through
// bpf_skb_load_bytes and direct access, and bpf_redirect. The test run's output shows where data ended up
// (with the zeroed 14 bytes test_run pushes in front of an L3 program's data).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 6);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

static __always_inline void note(__u32 key, __u64 v) {
  __u64 *slot = bpf_map_lookup_elem(&seen, &key);
  if (slot) *slot += v;
}

SEC("lwt_xmit")
int lwt_push(struct __sk_buff *skb) {
  __u8 first = 0;
  if (bpf_skb_load_bytes(skb, 0, &first, 1) < 0) return BPF_DROP;
  const __u32 extra = first & 31;
  long r = bpf_skb_change_head(skb, extra + ETH_HLEN, 0);
  note(0, r == 0 ? 1 : 100);
  if (r) return BPF_DROP;
  struct ethhdr eth = {.h_dest = {1, 2, 3, 4, 5, 6}, .h_source = {6, 5, 4, 3, 2, 1}, .h_proto = bpf_htons(ETH_P_IP)};
  if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) < 0) return BPF_DROP;
  note(1, skb->len);
  // Grow by up to 63 bytes or cut to 60, as the first byte says.
  const __u32 new_len = (first & 64) ? skb->len + (first & 63) : 60;
  r = bpf_skb_change_tail(skb, new_len, 0);
  note(2, r == 0 ? 1 : (__u64)-r);
  note(3, skb->len);
  void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
  if (data + sizeof(eth) <= data_end) note(4, ((struct ethhdr *)data)->h_dest[5]);
  __u8 last = 0;
  if (skb->len && bpf_skb_load_bytes(skb, skb->len - 1, &last, 1) == 0) note(5, last + 1);
  return (first & 128) ? bpf_redirect(1, 0) : BPF_OK;
}

char _license[] SEC("license") = "GPL";
