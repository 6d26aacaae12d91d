// Socket filter with the legacy packet loads (BPF_LD | BPF_ABS / BPF_IND), as samples/bpf sockex1
// and many classic-BPF-derived filters use them: r0 = *(u8/u16/u32 *)(skb->data + k), big-endian,
// and an out-of-range offset ends the program with r0 = 0.
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u64);
} proto_count SEC(".maps");

SEC("socket")
int ld_abs(struct __sk_buff *skb) {
  __u32 proto = load_byte(skb, offsetof(struct iphdr, protocol));
  __u32 tot = load_half(skb, offsetof(struct iphdr, tot_len));
  __u32 daddr = load_word(skb, offsetof(struct iphdr, daddr));
  __u64 *v = bpf_map_lookup_elem(&proto_count, &proto);
  if (v) __sync_fetch_and_add(v, 1);
  __u32 ihl = (load_byte(skb, 0) & 0xf) * 4;
  __u32 dport = load_half(skb, ihl + 2);  // LD_IND: offset from a register; may run past the end
  return (daddr ^ tot ^ dport) & 0xfff;
}

// In a BPF-to-BPF subprogram a failed load returns 0 from the subprogram only (the kernel's
// bpf_gen_ld_abs emits a hidden `r0 = 0; exit`); the caller goes on, so the result tells the two
// readings apart. The kernel allows this only with BTF func info, which -g provides.
static __attribute__((noinline)) __u32 port_at(struct __sk_buff *skb, __u32 off) {
  return load_half(skb, off) + 0x10000;
}

SEC("socket")
int ld_abs_subprog(struct __sk_buff *skb) {
  __u32 ihl = (load_byte(skb, 0) & 0xf) * 4;
  __u32 sport = port_at(skb, ihl);
  __u32 dport = port_at(skb, ihl + 2);
  return (sport ^ (dport << 1)) + 1;
}

char _license[] SEC("license") = "GPL";
