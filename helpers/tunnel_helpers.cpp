// The tunnel metadata helpers (net/core/filter.c as 6.18 answers BPF_PROG_TEST_RUN):
// bpf_skb_set_tunnel_key attaches transmit tunnel metadata to the skb (the kernel's per-CPU metadata
// dst), which bpf_skb_get_tunnel_key reads back and bpf_skb_set_tunnel_opt / bpf_skb_get_tunnel_opt
// add options to. The metadata lives in the run's HelperRun (a test run's skb starts without it;
// repetitions share it).
#include <linux/bpf.h>

#include <arpa/inet.h>
#include <endian.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "helpers/skb_access.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// include/net/ip_tunnels.h's IP_TUNNEL_*_BIT numbers (bit i is the UAPI TUNNEL_* flag 1 << i).
constexpr std::uint32_t kCsumBit = 0, kKeyBit = 2, kSeqBit = 3, kDontFragmentBit = 8, kGeneveOptBit = 11,
                        kVxlanOptBit = 12, kNocacheBit = 13, kErspanOptBit = 14, kGtpOptBit = 15, kPfcpOptBit = 17;
constexpr std::uint32_t kOptionsPresent = (1u << kGeneveOptBit) | (1u << kVxlanOptBit) | (1u << kErspanOptBit) |
                                          (1u << kGtpOptBit) | (1u << kPfcpOptBit);
constexpr std::uint64_t kNoTunnelKey = 1ULL << 4;  // BPF_F_NO_TUNNEL_KEY (6.3+ UAPI)
constexpr std::uint32_t kIpv6FlowlabelMask = 0x000fffff;

// The shorter struct bpf_tunnel_key layouts older programs pass (offsets of its later fields).
bool compat_key_size(std::uint32_t size) {
  return size == offsetof(bpf_tunnel_key, local_ipv6) || size == offsetof(bpf_tunnel_key, tunnel_label) ||
         size == offsetof(bpf_tunnel_key, tunnel_ext) || size == offsetof(bpf_tunnel_key, remote_ipv6[1]);
}

// The run's HelperRun when ctx is its skb and [mem, mem + len) may be read (or written), else nullptr
// after a fault.
HelperRun* tunnel_run(vm::RunContext* run, std::uint64_t ctx, std::uint64_t mem, std::uint32_t len, bool write,
                      const char* what) {
  return skb_of(run, ctx) != nullptr && guest_ok(run, mem, len, write, what) ? run_state(run) : nullptr;
}

// bpf_skb_set_tunnel_key(skb, from, size, flags): flags outside TUNINFO_IPV6 | ZERO_CSUM_TX |
// DONT_FRAGMENT | SEQ_NUMBER | NO_TUNNEL_KEY, a size that is neither the struct's nor an older
// layout's (zero-padded), an IPv4 key with a label, or tunnel_ext set: -EINVAL. Else the skb's tunnel
// metadata is replaced (no options): the key with the flags NOCACHE, CSUM unless ZERO_CSUM_TX, KEY
// unless NO_TUNNEL_KEY, DONT_FRAGMENT, SEQ; remote as destination, local as source. 0.
std::uint64_t skb_set_tunnel_key(std::uint64_t ctx, std::uint64_t from, std::uint64_t size, std::uint64_t flags,
                                 std::uint64_t, vm::RunContext* run) {
  const auto len = static_cast<std::uint32_t>(size);
  HelperRun* s = tunnel_run(run, ctx, from, len, false, "bpf_skb_set_tunnel_key from");
  if (s == nullptr) return 0;
  const std::uint64_t known = std::uint64_t{BPF_F_TUNINFO_IPV6} | BPF_F_ZERO_CSUM_TX | BPF_F_DONT_FRAGMENT |
                              BPF_F_SEQ_NUMBER | kNoTunnelKey;
  if (flags & ~known) return ret(-EINVAL);
  if (len != sizeof(bpf_tunnel_key) && !compat_key_size(len)) return ret(-EINVAL);
  bpf_tunnel_key key{};
  std::memcpy(&key, ptr(from), len);
  const bool ipv6 = flags & BPF_F_TUNINFO_IPV6;
  if ((!ipv6 && key.tunnel_label) || key.tunnel_ext) return ret(-EINVAL);
  if (!s->tunnel) s->tunnel = std::make_unique<TunnelInfo>();
  TunnelInfo& t = *s->tunnel;
  t = TunnelInfo{};
  t.ipv6 = ipv6;
  t.flags = (1u << kNocacheBit) | (flags & BPF_F_DONT_FRAGMENT ? 1u << kDontFragmentBit : 0) |
            (flags & BPF_F_ZERO_CSUM_TX ? 0 : 1u << kCsumBit) | (flags & BPF_F_SEQ_NUMBER ? 1u << kSeqBit : 0) |
            (flags & kNoTunnelKey ? 0 : 1u << kKeyBit);
  t.tun_id_be = htobe64(key.tunnel_id);
  t.tos = key.tunnel_tos;
  t.ttl = key.tunnel_ttl;
  if (ipv6) {
    std::memcpy(t.dst, key.remote_ipv6, 16);
    std::memcpy(t.src, key.local_ipv6, 16);
    t.label_be = htonl(key.tunnel_label) & htonl(kIpv6FlowlabelMask);
  } else {
    const std::uint32_t dst = htonl(key.remote_ipv4), src = htonl(key.local_ipv4);
    std::memcpy(t.dst, &dst, 4);
    std::memcpy(t.src, &src, 4);
  }
  return 0;
}

// bpf_skb_get_tunnel_key(skb, to, size, flags): no metadata or flags outside TUNINFO_IPV6 |
// TUNINFO_FLAGS -EINVAL, the other family -EPROTO, a size that is neither the struct's nor an older
// layout's -EINVAL (the 8-byte one only for IPv4), `to` zeroed on each. Else the key as the receive
// side reads it: remote = the metadata's source, local = its destination; tunnel_flags (with
// TUNINFO_FLAGS) the TUNNEL_* flags in network order, else tunnel_ext 0. 0.
std::uint64_t skb_get_tunnel_key(std::uint64_t ctx, std::uint64_t to, std::uint64_t size, std::uint64_t flags,
                                 std::uint64_t, vm::RunContext* run) {
  const auto len = static_cast<std::uint32_t>(size);
  const HelperRun* s = tunnel_run(run, ctx, to, len, true, "bpf_skb_get_tunnel_key to");
  if (s == nullptr) return 0;
  const TunnelInfo* t = s->tunnel.get();
  long err = 0;
  if (t == nullptr || (flags & ~(std::uint64_t{BPF_F_TUNINFO_IPV6} | BPF_F_TUNINFO_FLAGS))) err = -EINVAL;
  else if (t->ipv6 != bool(flags & BPF_F_TUNINFO_IPV6)) err = -EPROTO;
  else if (len != sizeof(bpf_tunnel_key) &&
           (!compat_key_size(len) || (len == offsetof(bpf_tunnel_key, remote_ipv6[1]) && t->ipv6)))
    err = -EINVAL;
  if (err != 0) {
    std::memset(ptr(to), 0, len);
    return ret(err);
  }
  bpf_tunnel_key key{};
  key.tunnel_id = static_cast<std::uint32_t>(be64toh(t->tun_id_be));
  key.tunnel_tos = t->tos;
  key.tunnel_ttl = t->ttl;
  if (flags & BPF_F_TUNINFO_FLAGS) key.tunnel_flags = htons(static_cast<std::uint16_t>(t->flags & 0xffff));
  if (t->ipv6) {
    std::memcpy(key.remote_ipv6, t->src, 16);
    std::memcpy(key.local_ipv6, t->dst, 16);
    key.tunnel_label = ntohl(t->label_be);
  } else {
    std::uint32_t src, dst;
    std::memcpy(&src, t->src, 4);
    std::memcpy(&dst, t->dst, 4);
    key.remote_ipv4 = ntohl(src);
    key.local_ipv4 = ntohl(dst);
  }
  std::memcpy(ptr(to), &key, len);
  return 0;
}

// bpf_skb_set_tunnel_opt(skb, from, size): without metadata from bpf_skb_set_tunnel_key, or a size not
// a multiple of 4, -EINVAL; above 255 bytes -ENOMEM; else the options replace the metadata's (a
// non-empty set marks them present). 0.
std::uint64_t skb_set_tunnel_opt(std::uint64_t ctx, std::uint64_t from, std::uint64_t size, std::uint64_t,
                                 std::uint64_t, vm::RunContext* run) {
  const auto len = static_cast<std::uint32_t>(size);
  HelperRun* s = tunnel_run(run, ctx, from, len, false, "bpf_skb_set_tunnel_opt from");
  if (s == nullptr) return 0;
  TunnelInfo* t = s->tunnel.get();
  if (t == nullptr || (len & 3)) return ret(-EINVAL);
  if (len > sizeof t->options) return ret(-ENOMEM);
  t->options_len = static_cast<std::uint8_t>(len);
  if (len > 0) {
    std::memcpy(t->options, ptr(from), len);
    t->flags |= kOptionsPresent;
  }
  return 0;
}

// bpf_skb_get_tunnel_opt(skb, to, size): no metadata or no options present -ENOENT, a buffer shorter
// than the options -ENOMEM (`to` zeroed on both); else the options, zero-filled to size: their length.
std::uint64_t skb_get_tunnel_opt(std::uint64_t ctx, std::uint64_t to, std::uint64_t size, std::uint64_t,
                                 std::uint64_t, vm::RunContext* run) {
  const auto len = static_cast<std::uint32_t>(size);
  const HelperRun* s = tunnel_run(run, ctx, to, len, true, "bpf_skb_get_tunnel_opt to");
  if (s == nullptr) return 0;
  const TunnelInfo* t = s->tunnel.get();
  const long err = t == nullptr || !(t->flags & kOptionsPresent) ? -ENOENT : len < t->options_len ? -ENOMEM : 0;
  if (err != 0) {
    std::memset(ptr(to), 0, len);
    return ret(err);
  }
  std::memcpy(ptr(to), t->options, t->options_len);
  std::memset(ptr(to + t->options_len), 0, len - t->options_len);
  return t->options_len;
}

}  // namespace

void add_tunnel_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_skb_set_tunnel_key, "bpf_skb_set_tunnel_key", skb_set_tunnel_key, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToMem, ArgType::ConstSize, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_get_tunnel_key, "bpf_skb_get_tunnel_key", skb_get_tunnel_key, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_set_tunnel_opt, "bpf_skb_set_tunnel_opt", skb_set_tunnel_opt, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_skb_get_tunnel_opt, "bpf_skb_get_tunnel_opt", skb_get_tunnel_opt, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize}));
}

}  // namespace bpfvm::helpers::detail
