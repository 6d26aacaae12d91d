// An sk_msg program driving the message data helpers: the first byte picks the helper, the u32s at
// offsets 4, 8 and 12 are its arguments; the helper's answer goes to `after`[0], the length of the
// directly readable window (data_end - data) to [1] and sk_msg_md.size to [2] after the call. A push
// also writes '#' through the window's first byte, to show where it now points.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __s64);
} after SEC(".maps");

static void record(__u32 key, __s64 value) { bpf_map_update_elem(&after, &key, &value, BPF_ANY); }

SEC("sk_msg")
int msg_data(struct sk_msg_md *msg) {
  void *data = msg->data, *data_end = msg->data_end;
  __u32 args[4];
  long r = 0;
  if (data + sizeof args > data_end) return SK_DROP;
  __builtin_memcpy(args, data, sizeof args);
  switch (args[0] & 0xff) {
    case 'a': r = bpf_msg_apply_bytes(msg, args[1]); break;
    case 'c': r = bpf_msg_cork_bytes(msg, args[1]); break;
    case 'l': r = bpf_msg_pull_data(msg, args[1], args[2], args[3]); break;
    case 'u': r = bpf_msg_push_data(msg, args[1], args[2], args[3]); break;
    case 'o': r = bpf_msg_pop_data(msg, args[1], args[2], args[3]); break;
  }
  record(0, r);
  data = msg->data;
  data_end = msg->data_end;
  record(1, data_end - data);
  record(2, msg->size);
  if ((args[0] & 0xff) == 'u' && data + 1 <= data_end) *(__u8 *)data = '#';
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
