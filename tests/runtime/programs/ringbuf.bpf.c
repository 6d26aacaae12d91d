// Ring buffer producer: bpf_ringbuf_reserve/submit/discard of a packet summary and bpf_ringbuf_output
// of the first bytes; nothing consumes, so the ring fills and later reservations fail. What the
// program saw (reserve failures, output errnos, the producer position) lands in global variables.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16384);
} events SEC(".maps");

struct event {
  __u32 len;
  __u32 seq;
  __u8 head[16];
};

__u32 seq;
__u32 reserve_failed;
__s64 output_errs;
__u64 prod_pos, avail, cons_pos, ring_size;

SEC("xdp")
int ringbuf_prod(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  __u32 len = data_end - data;
  if (data + 16 > data_end) return XDP_DROP;

  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    reserve_failed++;
  } else {
    e->len = len;
    e->seq = seq++;
    __builtin_memcpy(e->head, data, 16);
    if (len & 1)
      bpf_ringbuf_discard(e, 0);
    else
      bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  }
  // A variable-size record: 1..16 bytes of the packet.
  __u32 n = (len & 15) + 1;
  __u8 buf[16];
  __builtin_memcpy(buf, data, 16);
  output_errs += bpf_ringbuf_output(&events, buf, n, 0);
  prod_pos = bpf_ringbuf_query(&events, BPF_RB_PROD_POS);
  cons_pos = bpf_ringbuf_query(&events, BPF_RB_CONS_POS);
  avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
  ring_size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
  return e ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
