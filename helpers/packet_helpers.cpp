// __sk_buff helpers (load/store bytes, checksum fix-ups, pull_data, sk_skb's size changes), the legacy
// LD_ABS/LD_IND packet load, csum_diff, the redirect verdicts and fib_lookup.
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <arpa/inet.h>

#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <variant>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"
#include "helpers/host_device.hpp"
#include "helpers/skb_access.hpp"
#include "maps/cgroup_array_map.hpp"
#include "maps/map.hpp"

namespace bpfvm::helpers::detail {

// The __sk_buff behind `reg` (r1 for helpers), or nullptr after a fault. With a HelperRun, it must be
// the run's context. The engine names the helper or instruction in front of the fault text.
SkbCtx* skb_of(vm::RunContext* run, std::uint64_t ctx, const char* reg) {
  const HelperRun* s = run_state(run);
  if (s == nullptr || s->skb == nullptr) {
    fault(run, "this run has no __sk_buff context");
    return nullptr;
  }
  if (reinterpret_cast<std::uintptr_t>(s->skb) != ctx) {
    fault(run, std::string(reg) + " is not the program's context");
    return nullptr;
  }
  return s->skb;
}

// After a helper moved data or data_end: refresh len, the u32 mirrors and the packet Region (the
// kernel's bpf_compute_data_pointers / bpf_compute_data_end_sk_skb).
void sync_skb(vm::RunContext* run, SkbCtx& skb) {
  skb.data_meta = skb.data;
  if (skb.frame_begin != 0) skb.mac_header = skb.data;  // sk_skb: no headers before the payload
  skb.md.len = static_cast<std::uint32_t>(skb.data_end - skb.data);
  skb.md.data = static_cast<std::uint32_t>(skb.data);
  skb.md.data_end = static_cast<std::uint32_t>(skb.data_end);
  skb.md.data_meta = static_cast<std::uint32_t>(skb.data_meta);
  move_packet_region(run, skb.data, skb.data_end - skb.data);
}

namespace {

using vm::ArgType;
using vm::RetType;

// Ones'-complement arithmetic (include/net/checksum.h), on values as they sit in memory.
std::uint32_t csum_add(std::uint32_t a, std::uint32_t b) {
  a += b;
  return a + (a < b);
}
std::uint32_t csum_sub(std::uint32_t a, std::uint32_t b) { return csum_add(a, ~b); }
std::uint16_t csum_fold(std::uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}
std::uint16_t csum16_add(std::uint16_t a, std::uint16_t b) {
  std::uint32_t s = std::uint32_t{a} + b;
  return static_cast<std::uint16_t>(s + (s >> 16));
}

// The sk_reuseport context `ctx` names in this run, or null (another type's run).
ReuseportCtx* reuseport_of(vm::RunContext* run, std::uint64_t ctx) {
  HelperRun* s = run_state(run);
  return s != nullptr && s->reuseport != nullptr && reinterpret_cast<std::uintptr_t>(&s->reuseport->md) == ctx
             ? s->reuseport
             : nullptr;
}

// Copies [start + offset, + len) when it ends by `end` (0), else zeroes `to` (-EFAULT): the load-bytes
// helpers' common end (bpf_skb_load_bytes, bpf_skb_load_bytes_relative).
std::uint64_t copy_or_clear(const std::uint8_t* start, const std::uint8_t* end, std::uint64_t offset, std::uint64_t to,
                            std::uint64_t len, std::uint64_t max_offset) {
  if (offset <= max_offset && start != nullptr && offset + len <= static_cast<std::uint64_t>(end - start)) {
    std::memcpy(ptr(to), start + offset, len);
    return 0;
  }
  std::memset(ptr(to), 0, len);
  return ret(-EFAULT);
}

// bpf_skb_load_bytes_relative(ctx, offset, to, len, start_header), sk_reuseport's only (its skb from
// the frame's MAC or network header; offset above 0xffff or another start -EFAULT, `to` zeroed);
// other types stop "not supported yet".
std::uint64_t skb_load_bytes_relative(std::uint64_t ctx, std::uint64_t offset, std::uint64_t to, std::uint64_t len,
                                      std::uint64_t start_header, vm::RunContext* run) {
  const ReuseportCtx* reuse = reuseport_of(run, ctx);
  if (reuse == nullptr) return fault(run, "bpf_skb_load_bytes_relative is not supported yet outside sk_reuseport");
  if (!guest_ok(run, to, len, true, "bpf_skb_load_bytes_relative to")) return 0;
  const auto* end = static_cast<const std::uint8_t*>(reuse->md.data_end);
  const std::uint32_t header = static_cast<std::uint32_t>(start_header);
  const std::uint8_t* start = header == BPF_HDR_START_MAC ? reuse->mac_header
                              : header == BPF_HDR_START_NET ? reuse->network_header
                                                            : nullptr;
  return copy_or_clear(start, end, static_cast<std::uint32_t>(offset), to, len, 0xffff);
}

// bpf_skb_load_bytes(skb, offset, to, len): 0, or -EFAULT with `to` zeroed when outside the packet
// (sk_reuseport's: from the L4 header its data points at).
std::uint64_t skb_load_bytes(std::uint64_t ctx, std::uint64_t offset, std::uint64_t to, std::uint64_t len,
                             std::uint64_t, vm::RunContext* run) {
  if (const ReuseportCtx* reuse = reuseport_of(run, ctx)) {
    if (!guest_ok(run, to, len, true, "bpf_skb_load_bytes to")) return 0;
    return copy_or_clear(static_cast<const std::uint8_t*>(reuse->md.data),
                         static_cast<const std::uint8_t*>(reuse->md.data_end), static_cast<std::uint32_t>(offset), to,
                         len, INT_MAX);
  }
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr || !guest_ok(run, to, len, true, "bpf_skb_load_bytes to")) return 0;
  const std::uint32_t off = static_cast<std::uint32_t>(offset);
  // A flow dissector's (bpf_flow_dissector_load_bytes) reads the skb behind its context, and
  // BPF_PROG_TEST_RUN's, the only flow dissector runs bpfvm has, has none: -EFAULT, `to` zeroed.
  const bool flow_dissector = skb->md.flow_keys != nullptr;
  if (flow_dissector || off > INT_MAX || std::uint64_t{off} + len > linear_len(skb)) {
    std::memset(ptr(to), 0, len);
    return ret(-EFAULT);
  }
  std::memcpy(ptr(to), ptr(skb->data + off), len);
  return 0;
}

// LD_ABS/LD_IND (vm::HelperRegistry::set_packet_load): the kernel's bpf_skb_load_helper_{8,16,32}
// with the skb from r6. `offset` is the kernel's `int offset`: only its low 32 bits count. Returns
// the big-endian value in host order, or -EFAULT outside the packet (the engine then returns 0).
// Negative offsets name the headers, as bpf_internal_load_pointer_neg_helper does: SKF_NET_OFF + k
// is byte k of the network header (where SkbCtx::net_offset puts it: test_run's, moved on by
// bpf_skb_change_head, back by bpf_skb_vlan_pop), SKF_LL_OFF + k byte k of the MAC header.
std::uint64_t skb_legacy_load(std::uint64_t ctx, std::uint64_t offset, std::uint64_t size_bytes, std::uint64_t,
                              std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx, "r6");
  if (skb == nullptr) return 0;
  const auto k = static_cast<std::int32_t>(static_cast<std::uint32_t>(offset));
  std::uint64_t from = 0;
  if (k >= 0) {
    from = skb->data + static_cast<std::uint32_t>(k);
  } else if (k >= SKF_NET_OFF) {
    from = network_header(*skb) + static_cast<std::uint32_t>(k - SKF_NET_OFF);
  } else if (k >= SKF_LL_OFF && skb->mac_header != 0) {
    from = skb->mac_header + static_cast<std::uint32_t>(k - SKF_LL_OFF);
  } else {
    return ret(-EFAULT);
  }
  if (from + size_bytes > skb->data_end) return ret(-EFAULT);
  std::uint8_t bytes[4] = {};
  std::memcpy(bytes, ptr(from), size_bytes);
  std::uint64_t value = 0;
  for (std::uint64_t i = 0; i < size_bytes; ++i) value = (value << 8) | bytes[i];
  return value;
}

// bpf_skb_store_bytes(skb, offset, from, len, flags): BPF_F_RECOMPUTE_CSUM is accepted (bpfvm
// packets carry no CHECKSUM_COMPLETE value to update); BPF_F_INVALIDATE_HASH clears skb->hash.
std::uint64_t skb_store_bytes(std::uint64_t ctx, std::uint64_t offset, std::uint64_t from, std::uint64_t len,
                              std::uint64_t flags, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr || !guest_ok(run, from, len, false, "bpf_skb_store_bytes from")) return 0;
  if (flags & ~static_cast<std::uint64_t>(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return ret(-EINVAL);
  const std::uint32_t off = static_cast<std::uint32_t>(offset);
  if (off > INT_MAX) return ret(-EFAULT);
  if (std::uint64_t{off} + len > linear_len(skb)) return ret(-EFAULT);
  std::memmove(ptr(skb->data + off), ptr(from), len);
  if (flags & BPF_F_INVALIDATE_HASH) clear_hash(*skb);
  return 0;
}

// The 2-byte checksum field at offset, or nullptr with the errno in err.
std::uint8_t* csum_field(SkbCtx* skb, std::uint64_t offset, long& err) {
  const std::uint32_t off = static_cast<std::uint32_t>(offset);
  if (off > 0xffff || (off & 1) || std::uint64_t{off} + 2 > linear_len(skb)) {
    err = -EFAULT;
    return nullptr;
  }
  return reinterpret_cast<std::uint8_t*>(ptr(skb->data + off));
}

// csum_replace_by_diff / csum_replace2 / csum_replace4 on the field; -EINVAL for a bad size.
long csum_replace(std::uint8_t* field, std::uint64_t size, std::uint64_t from, std::uint64_t to) {
  std::uint16_t sum;
  std::memcpy(&sum, field, 2);
  switch (size) {
    case 0:
      if (from != 0) return -EINVAL;
      sum = csum_fold(csum_add(static_cast<std::uint32_t>(to), ~std::uint32_t{sum}));
      break;
    case 2:
      sum = static_cast<std::uint16_t>(~csum16_add(csum16_add(static_cast<std::uint16_t>(~sum), static_cast<std::uint16_t>(~from)),
                                                   static_cast<std::uint16_t>(to)));
      break;
    case 4:
      sum = csum_fold(csum_add(csum_sub(~std::uint32_t{sum}, static_cast<std::uint32_t>(from)),
                               static_cast<std::uint32_t>(to)));
      break;
    default:
      return -EINVAL;
  }
  std::memcpy(field, &sum, 2);
  return 0;
}

std::uint64_t l3_csum_replace(std::uint64_t ctx, std::uint64_t offset, std::uint64_t from, std::uint64_t to,
                              std::uint64_t flags, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (flags & ~static_cast<std::uint64_t>(BPF_F_HDR_FIELD_MASK)) return ret(-EINVAL);
  long err = 0;
  std::uint8_t* field = csum_field(skb, offset, err);
  if (field == nullptr) return ret(err);
  return ret(csum_replace(field, flags & BPF_F_HDR_FIELD_MASK, from, to));
}

// bpf_l4_csum_replace: as l3 plus the mangled-zero rules. BPF_F_PSEUDO_HDR only matters for
// CHECKSUM_COMPLETE skbs, which bpfvm does not model, so the field update is the same.
std::uint64_t l4_csum_replace(std::uint64_t ctx, std::uint64_t offset, std::uint64_t from, std::uint64_t to,
                              std::uint64_t flags, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  const std::uint64_t known = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
  if (flags & ~known) return ret(-EINVAL);
  long err = 0;
  std::uint8_t* field = csum_field(skb, offset, err);
  if (field == nullptr) return ret(err);
  const bool mmzero = flags & BPF_F_MARK_MANGLED_0;
  std::uint16_t cur;
  std::memcpy(&cur, field, 2);
  if (mmzero && !(flags & BPF_F_MARK_ENFORCE) && cur == 0) return 0;
  if (long e = csum_replace(field, flags & BPF_F_HDR_FIELD_MASK, from, to)) return ret(e);
  std::memcpy(&cur, field, 2);
  if (mmzero && cur == 0) {
    const std::uint16_t mangled = 0xffff;  // CSUM_MANGLED_0
    std::memcpy(field, &mangled, 2);
  }
  return 0;
}

// x86-64's csum_partial: the bytes as little-endian 64-bit words (a short tail zero-padded) added onto
// the seed with end-around carry, then folded to 32 bits with end-around carry.
std::uint32_t csum_partial(std::uint64_t addr, std::uint64_t size_bytes, std::uint32_t seed) {
  std::uint64_t acc = seed;
  for (std::uint64_t i = 0; i < size_bytes; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, ptr(addr + i), std::min<std::uint64_t>(8, size_bytes - i));
    acc += word;
    acc += acc < word;
  }
  return csum_add(static_cast<std::uint32_t>(acc), static_cast<std::uint32_t>(acc >> 32));
}

// bpf_csum_diff(from, from_size, to, to_size, seed), as since Linux 6.13: csum_partial(to, seed) minus
// csum_partial(from), to alone, or ~csum_partial(from, ~seed) alone, any sizes (the verifier bounds
// them), folded to 16 bits (csum_from32to16, not complemented) so that every architecture answers alike.
std::uint64_t csum_diff(std::uint64_t from, std::uint64_t from_size, std::uint64_t to, std::uint64_t to_size,
                        std::uint64_t seed, vm::RunContext* run) {
  if (!guest_ok(run, from, from_size, false, "bpf_csum_diff from") ||
      !guest_ok(run, to, to_size, false, "bpf_csum_diff to"))
    return 0;
  const auto from_bytes = static_cast<std::uint32_t>(from_size), to_bytes = static_cast<std::uint32_t>(to_size);
  auto sum = static_cast<std::uint32_t>(seed);
  if (from_bytes && to_bytes)
    sum = csum_sub(csum_partial(to, to_bytes, sum), csum_partial(from, from_bytes, 0));
  else if (to_bytes)
    sum = csum_partial(to, to_bytes, sum);
  else if (from_bytes)
    sum = ~csum_partial(from, from_bytes, ~sum);
  sum += (sum >> 16) | (sum << 16);
  return sum >> 16;
}

// bpf_redirect(ifindex, flags): records the target; XDP_REDIRECT / TC_ACT_REDIRECT, or
// XDP_ABORTED / TC_ACT_SHOT for unknown flags (the kernel returns those codes, not an errno).
std::uint64_t redirect(std::uint64_t ifindex, std::uint64_t flags, std::uint64_t, std::uint64_t, std::uint64_t,
                       vm::RunContext* run) {
  HelperRun* s = run_state(run);
  const bool xdp = s != nullptr && s->xdp != nullptr;
  if (flags & ~static_cast<std::uint64_t>(BPF_F_INGRESS)) return xdp ? std::uint64_t{XDP_ABORTED} : ret(TC_ACT_SHOT);
  if (xdp && flags) return XDP_ABORTED;  // XDP has no ingress redirect
  if (s == nullptr) return fault(run, "no HelperRun to record the redirect in");
  s->redirect = RedirectRecord{true, static_cast<std::uint32_t>(ifindex), flags, nullptr};
  return xdp ? std::uint64_t{XDP_REDIRECT} : ret(TC_ACT_REDIRECT);
}

// bpf_redirect_neigh(ifindex, params, plen, flags): TC_ACT_SHOT for flags or a plen below struct
// bpf_redir_neigh's size (0: no next hop); else TC_ACT_REDIRECT, recorded with the kernel's internal
// neighbour flag (and next-hop flag when params are given).
std::uint64_t redirect_neigh(std::uint64_t ifindex, std::uint64_t, std::uint64_t plen, std::uint64_t flags,
                             std::uint64_t, vm::RunContext* run) {
  const auto len = static_cast<std::int32_t>(static_cast<std::uint32_t>(plen));
  if ((len != 0 && static_cast<std::uint32_t>(len) < sizeof(bpf_redir_neigh)) || flags) return ret(TC_ACT_SHOT);
  HelperRun* s = run_state(run);
  if (s == nullptr) return fault(run, "no HelperRun to record the redirect in");
  s->redirect = RedirectRecord{true, static_cast<std::uint32_t>(ifindex),
                               RedirectRecord::kNeigh | (len != 0 ? RedirectRecord::kNextHop : 0), nullptr};
  return ret(TC_ACT_REDIRECT);
}

// bpf_redirect_peer(ifindex, flags): TC_ACT_SHOT for any flag, else TC_ACT_REDIRECT recorded with the
// kernel's internal peer flag.
std::uint64_t redirect_peer(std::uint64_t ifindex, std::uint64_t flags, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  if (flags) return ret(TC_ACT_SHOT);
  HelperRun* s = run_state(run);
  if (s == nullptr) return fault(run, "no HelperRun to record the redirect in");
  s->redirect = RedirectRecord{true, static_cast<std::uint32_t>(ifindex), RedirectRecord::kPeer, nullptr};
  return ret(TC_ACT_REDIRECT);
}

// bpf_redirect_map(map, key, flags): filter.c __bpf_xdp_redirect_map. Flag bits other than the
// action (low 2 bits) and, for devmaps, BPF_F_BROADCAST/BPF_F_EXCLUDE_INGRESS give XDP_ABORTED; a key
// with no entry returns the action in the low bits; else (or on broadcast) XDP_REDIRECT, and the run
// records the map, the key and, for a devmap entry, its device.
std::uint64_t redirect_map(std::uint64_t m, std::uint64_t key, std::uint64_t flags, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  HelperRun* s = run_state(run);
  if (s == nullptr) return fault(run, "no HelperRun to record the redirect in");
  const bool devmap = map->type() == maps::MapType::Devmap || map->type() == maps::MapType::DevmapHash;
  const std::uint64_t action_mask = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
  const std::uint64_t flag_mask = devmap ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0;
  if (flags & ~(action_mask | flag_mask)) return XDP_ABORTED;
  const auto k = static_cast<std::uint32_t>(key);
  const void* entry = map->lookup(&k);
  if (entry == nullptr && !(flags & BPF_F_BROADCAST)) return flags & action_mask;
  std::uint32_t ifindex = 0;
  if (devmap && entry != nullptr) std::memcpy(&ifindex, entry, 4);
  s->redirect = RedirectRecord{true, ifindex, flags & BPF_F_BROADCAST ? flags : 0, map, k};
  return XDP_REDIRECT;
}

// bpf_skb_pull_data(skb, len) (also sk_skb's sk_skb_pull_data): bpf_try_make_writable(skb, len ?: headlen).
// bpfvm's skbs are linear and unshared, so only the length check is left: more than skb->len is
// -ENOMEM (pskb_may_pull fails), else 0; data_end is recomputed either way.
std::uint64_t skb_pull_data(std::uint64_t ctx, std::uint64_t len, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  const long err = static_cast<std::uint32_t>(len) > linear_len(skb) ? -ENOMEM : 0;
  sync_skb(run, *skb);
  return ret(err);
}

// The skb of an sk_skb run (the one type whose frame the size-changing helpers below model), or
// nullptr after a fault naming what is not supported.
SkbCtx* stream_skb_of(vm::RunContext* run, std::uint64_t ctx, const char* what) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb != nullptr && skb->frame_begin == 0) {
    fault(run, std::string(what) + " is not supported yet for this program type (bpfvm models it for sk_skb)");
    return nullptr;
  }
  return skb;
}

// Grows the packet by n zeroed bytes in front of data (__skb_push + memset); -ENOMEM where bpfvm's
// frame has no room left (the kernel's skb_cow failing).
long push_head(vm::RunContext* run, SkbCtx& skb, std::uint64_t n) {
  if (skb.data - skb.frame_begin < n) return -ENOMEM;
  skb.data -= n;
  std::memset(ptr(skb.data), 0, n);
  sync_skb(run, skb);
  return 0;
}

// sk_skb_change_tail(skb, new_len, flags): flags, or new_len above BPF_SKB_MAX_LEN, is -EINVAL; the
// packet is trimmed or grown with zeroes. The kernel's lower bound (__bpf_skb_min_len: the network or
// transport header's offset from data) does not apply: a stream skb here carries no headers.
std::uint64_t sk_skb_change_tail(std::uint64_t ctx, std::uint64_t new_len, std::uint64_t flags, std::uint64_t,
                                 std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = stream_skb_of(run, ctx, "bpf_skb_change_tail");
  if (skb == nullptr) return 0;
  const std::uint64_t len = static_cast<std::uint32_t>(new_len);
  if (flags || len > kSkbMaxLenBytes) return ret(-EINVAL);
  if (len > linear_len(skb)) {
    if (skb->frame_end - skb->data < len) return ret(-ENOMEM);
    std::memset(ptr(skb->data_end), 0, len - linear_len(skb));
  }
  skb->data_end = skb->data + len;
  sync_skb(run, *skb);
  return 0;
}

// bpf_skb_change_tail for tc (filter.c's __bpf_skb_change_tail as 6.18 answers BPF_PROG_TEST_RUN): flags,
// new_len above BPF_SKB_MAX_LEN or below __bpf_skb_min_len -EINVAL (the test-run skb has no transport
// header set and no CHECKSUM_PARTIAL, so the minimum is the network header's offset: 14, the Ethernet
// header in front of data, plus what bpf_skb_change_head pushed), an encapsulated skb -ENOTSUPP; else the
// packet is trimmed or grown with zeroes, and a GSO skb (ctx_in's gso_size) loses its GSO state
// (skb_gso_reset: gso_size and gso_segs 0).
long tc_change_tail(vm::RunContext* run, SkbCtx& skb, std::uint32_t new_len, std::uint64_t flags) {
  if (flags || new_len > kSkbMaxLenBytes || new_len < skb.net_offset) return -EINVAL;
  if (skb.encapsulation) return -kEnotsupp;
  if (skb.data + new_len > skb.room_end) {  // past bpfvm's buffer: move the packet down, as a reallocation
    const std::uint64_t len = linear_len(&skb);
    skb.data = skb.room_begin + kSkbMaxLenBytes;  // leaves BPF_SKB_MAX_LEN in front and behind
    std::memmove(ptr(skb.data), ptr(skb.data_end - len), len);
    skb.data_end = skb.data + len;
  }
  if (new_len > linear_len(&skb)) std::memset(ptr(skb.data_end), 0, new_len - linear_len(&skb));
  skb.data_end = skb.data + new_len;
  skb.mac_header = skb.data;
  if (skb.md.gso_size != 0) skb.md.gso_size = skb.md.gso_segs = 0;
  sync_skb(run, skb);
  return 0;
}

// bpf_skb_change_tail(skb, len, flags): sk_skb's or tc's (the frame test_run built says which); other
// types' runs stop "not supported yet".
std::uint64_t skb_change_tail(std::uint64_t ctx, std::uint64_t new_len, std::uint64_t flags, std::uint64_t,
                              std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (skb->room_begin != 0) return ret(tc_change_tail(run, *skb, static_cast<std::uint32_t>(new_len), flags));
  return sk_skb_change_tail(ctx, new_len, flags, 0, 0, run);
}

// sk_skb_change_head(skb, head_room, flags): flags, a length above BPF_SKB_MAX_LEN or one that wraps
// is -EINVAL; else head_room zeroed bytes go in front.
std::uint64_t sk_skb_change_head(std::uint64_t ctx, std::uint64_t head_room, std::uint64_t flags, std::uint64_t,
                                 std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = stream_skb_of(run, ctx, "bpf_skb_change_head");
  if (skb == nullptr) return 0;
  const auto room = static_cast<std::uint32_t>(head_room);
  const auto new_len = static_cast<std::uint32_t>(linear_len(skb) + room);  // u32, as the kernel adds
  if (flags || new_len > kSkbMaxLenBytes || new_len < linear_len(skb)) return ret(-EINVAL);
  return ret(push_head(run, *skb, room));
}

// bpf_skb_change_head for tc (filter.c's __bpf_skb_change_head as 6.18 answers): flags, a length past
// BPF_SKB_MAX_LEN (not checked for a GSO skb) or one that wraps the u32 -EINVAL; else head_room zeroed
// bytes in front, and the MAC header reset to data while the network header stays: the network offset
// (what bpf_skb_adjust_room and bpf_skb_change_tail measure from) grows by head_room. A GSO skb grown past
// the room test_run leaves (BPF_SKB_MAX_LEN) stops the run "not supported yet".
std::uint64_t tc_change_head(vm::RunContext* run, SkbCtx& skb, std::uint32_t head_room, std::uint64_t flags) {
  const auto new_len = static_cast<std::uint32_t>(linear_len(&skb) + head_room);
  if (flags || (skb.md.gso_size == 0 && new_len > kSkbMaxLenBytes) || new_len < linear_len(&skb))
    return ret(-EINVAL);
  if (skb.data - skb.room_begin < head_room)
    return fault(run, "bpf_skb_change_head past BPF_SKB_MAX_LEN on a GSO skb is not supported yet");
  skb.data -= head_room;
  std::memset(ptr(skb.data), 0, head_room);
  skb.mac_header = skb.data;
  skb.net_offset += head_room;
  sync_skb(run, skb);
  return 0;
}

// bpf_skb_change_head(skb, head_room, flags): sk_skb's or tc's (the frame test_run built says which);
// other types' runs stop "not supported yet".
std::uint64_t skb_change_head(std::uint64_t ctx, std::uint64_t head_room, std::uint64_t flags, std::uint64_t,
                              std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (skb->room_begin != 0) return tc_change_head(run, *skb, static_cast<std::uint32_t>(head_room), flags);
  return sk_skb_change_head(ctx, head_room, flags, 0, 0, run);
}

// sk_skb_adjust_room(skb, len_diff, mode, flags): flags or mode other than 0 is -EINVAL, |len_diff| above
// 0xfff -EFAULT; growing pushes zeroed bytes in front of data, shrinking pulls bytes off the front
// (-ENOMEM when there are fewer).
std::uint64_t sk_skb_adjust_room(std::uint64_t ctx, std::uint64_t len_diff, std::uint64_t mode, std::uint64_t flags,
                                 std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = stream_skb_of(run, ctx, "bpf_skb_adjust_room");
  if (skb == nullptr) return 0;
  const std::int64_t diff = static_cast<std::int32_t>(static_cast<std::uint32_t>(len_diff));
  const std::uint64_t abs_diff = static_cast<std::uint64_t>(diff < 0 ? -diff : diff);
  if (flags || static_cast<std::uint32_t>(mode)) return ret(-EINVAL);
  if (abs_diff > 0xfff) return ret(-EFAULT);
  if (diff >= 0) return ret(push_head(run, *skb, abs_diff));
  if (abs_diff > linear_len(skb)) return ret(-ENOMEM);
  skb->data += abs_diff;
  sync_skb(run, *skb);
  return 0;
}

// bpf_skb_adjust_room for tc (filter.c's bpf_skb_adjust_room, net_grow/net_shrink, as 6.18 answers
// BPF_PROG_TEST_RUN): room is made or taken at `off` = the MAC header's length (14: test_run's tc skb has
// data at the Ethernet header), plus the fixed IPv4 or IPv6 header for BPF_ADJ_ROOM_NET. Checks in the
// kernel's order: unknown flag -EINVAL, |len_diff| > 0xfff -EFAULT, a protocol other than IPv4/IPv6 or
// an unknown mode -ENOTSUPP, a DECAP_L3 flag when growing or both of them -EINVAL, shrinking to or
// below the (new) base header length from L3 on, or growing past BPF_SKB_MAX_LEN, -ENOTSUPP; a GSO skb
// (ctx_in's gso_size; its gso_type is 0) -ENOTSUPP. Growing pushes zeroed bytes at `off` (the bytes
// before it move down); with ENCAP_L3_* it also checks IPv4+IPv6 or GRE+UDP (-EINVAL), ENCAP_L2_ETH
// with an L2 length below 14 (-EINVAL), an skb already encapsulated (-EALREADY), an L2 length above
// len_diff (-EINVAL), then marks the skb encapsulated and sets skb->protocol to the outer family.
// Shrinking takes ENCAP_* flags as -EINVAL, removes the bytes at `off`, and DECAP_L3_* sets the
// protocol to the inner family. The header offsets move with data, so mac_header stays at data.
constexpr std::uint64_t kAdjRoomDecapL3Ipv4 = 1ULL << 7;  // BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (6.3+ UAPI)
constexpr std::uint64_t kAdjRoomDecapL3Ipv6 = 1ULL << 8;  // BPF_F_ADJ_ROOM_DECAP_L3_IPV6
constexpr std::uint64_t kAdjRoomDecapL3 = kAdjRoomDecapL3Ipv4 | kAdjRoomDecapL3Ipv6;
constexpr std::uint64_t kAdjRoomEncapL3 = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;

long tc_adjust_room_grow(SkbCtx& skb, std::uint64_t off, std::uint64_t len, std::uint64_t flags) {
  const auto inner_mac_len = static_cast<std::uint8_t>(flags >> BPF_ADJ_ROOM_ENCAP_L2_SHIFT);
  const bool encap = flags & kAdjRoomEncapL3;
  if (skb.md.gso_size != 0) return -kEnotsupp;  // GSO but not TCP, and not UDP_L4
  if (skb.data - skb.room_begin < len) return -ENOMEM;  // cannot happen: the room covers BPF_SKB_MAX_LEN
  if (encap) {
    if ((flags & kAdjRoomEncapL3) == kAdjRoomEncapL3) return -EINVAL;
    if ((flags & BPF_F_ADJ_ROOM_ENCAP_L4_GRE) && (flags & BPF_F_ADJ_ROOM_ENCAP_L4_UDP)) return -EINVAL;
    if ((flags & BPF_F_ADJ_ROOM_ENCAP_L2_ETH) && inner_mac_len < 14) return -EINVAL;
    if (skb.encapsulation) return -EALREADY;
    if (inner_mac_len > len) return -EINVAL;
  }
  // The bytes before `off` must be in the packet (measured on 6.18: -ENOMEM once bpf_skb_change_head
  // has moved the network header past the end minus the IP header).
  if (off > linear_len(&skb)) return -ENOMEM;
  const std::uint64_t old_data = skb.data;
  skb.data -= len;
  std::memmove(ptr(skb.data), ptr(old_data), off);
  std::memset(ptr(skb.data + off), 0, len);
  if (encap) {
    skb.encapsulation = true;
    if (skb.md.protocol == htons(ETH_P_IP) && (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6)) skb.md.protocol = htons(ETH_P_IPV6);
    else if (skb.md.protocol == htons(ETH_P_IPV6) && (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4)) skb.md.protocol = htons(ETH_P_IP);
  }
  return 0;
}

long tc_adjust_room_shrink(SkbCtx& skb, std::uint64_t off, std::uint64_t len, std::uint64_t flags) {
  if (flags & ~(BPF_F_ADJ_ROOM_FIXED_GSO | kAdjRoomDecapL3 | BPF_F_ADJ_ROOM_NO_CSUM_RESET)) return -EINVAL;
  if (skb.md.gso_size != 0) return -kEnotsupp;
  if (off + len > linear_len(&skb)) return -ENOMEM;  // pskb_may_pull
  const std::uint64_t old_data = skb.data;
  skb.data += len;
  std::memmove(ptr(skb.data), ptr(old_data), off);
  if (skb.md.protocol == htons(ETH_P_IP) && (flags & kAdjRoomDecapL3Ipv6)) skb.md.protocol = htons(ETH_P_IPV6);
  else if (skb.md.protocol == htons(ETH_P_IPV6) && (flags & kAdjRoomDecapL3Ipv4)) skb.md.protocol = htons(ETH_P_IP);
  return 0;
}

long tc_adjust_room(vm::RunContext* run, SkbCtx& skb, std::int32_t len_diff, std::uint32_t mode, std::uint64_t flags) {
  constexpr std::uint64_t kKnownFlags = BPF_F_ADJ_ROOM_FIXED_GSO | kAdjRoomEncapL3 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE |
                                        BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2_ETH |
                                        BPF_F_ADJ_ROOM_ENCAP_L2(BPF_ADJ_ROOM_ENCAP_L2_MASK) | kAdjRoomDecapL3 |
                                        BPF_F_ADJ_ROOM_NO_CSUM_RESET;
  const std::uint64_t kMacLen = skb.net_offset;  // skb_mac_header_len == skb_network_offset: data is at the MAC header
  const bool shrink = len_diff < 0;
  const std::uint64_t abs_diff = shrink ? -static_cast<std::int64_t>(len_diff) : len_diff;
  if (flags & ~kKnownFlags) return -EINVAL;
  if (abs_diff > 0xfff) return -EFAULT;
  std::uint64_t base_len;
  if (skb.md.protocol == htons(ETH_P_IP)) base_len = 20;
  else if (skb.md.protocol == htons(ETH_P_IPV6)) base_len = 40;
  else return -kEnotsupp;
  std::uint64_t off = kMacLen;
  if (mode == BPF_ADJ_ROOM_NET) off += base_len;
  else if (mode != BPF_ADJ_ROOM_MAC) return -kEnotsupp;
  std::uint64_t len_min = base_len;
  if (flags & kAdjRoomDecapL3) {
    if (!shrink) return -EINVAL;
    if ((flags & kAdjRoomDecapL3) == kAdjRoomDecapL3) return -EINVAL;
    len_min = flags & kAdjRoomDecapL3Ipv4 ? 20 : 40;
  }
  const std::uint64_t len = linear_len(&skb);
  const std::uint64_t len_cur = len - kMacLen;  // u32 in the kernel; never below 0 (change_tail's minimum)
  if (shrink ? abs_diff >= len_cur || len_cur - abs_diff < len_min
             : len + abs_diff > kSkbMaxLenBytes && skb.md.gso_size == 0)
    return -kEnotsupp;
  const long err = shrink ? tc_adjust_room_shrink(skb, off, abs_diff, flags)
                          : tc_adjust_room_grow(skb, off, abs_diff, flags);
  if (err == 0 && !(flags & BPF_F_ADJ_ROOM_NO_CSUM_RESET)) reset_checksum_unnecessary(skb);
  skb.mac_header = skb.data;
  sync_skb(run, skb);
  return err;
}

// bpf_skb_adjust_room(skb, len_diff, mode, flags): sk_skb's or tc's (the frame test_run built says
// which); other types' runs stop "not supported yet".
std::uint64_t skb_adjust_room(std::uint64_t ctx, std::uint64_t len_diff, std::uint64_t mode, std::uint64_t flags,
                              std::uint64_t, vm::RunContext* run) {
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (skb->room_begin != 0)
    return ret(tc_adjust_room(run, *skb, static_cast<std::int32_t>(static_cast<std::uint32_t>(len_diff)),
                              static_cast<std::uint32_t>(mode), flags));
  return sk_skb_adjust_room(ctx, len_diff, mode, flags, 0, run);
}

// bpf_skb_change_proto(skb, proto, flags) for tc (filter.c's bpf_skb_proto_xlat as 6.18 answers):
// flags -EINVAL; IPv4 -> IPv6 pushes 20 zeroed bytes after the MAC header (the network header moves
// down with the MAC header), IPv6 -> IPv4 removes the 20 bytes there (-ENOMEM when the packet holds
// fewer after the MAC header); either sets skb->protocol and clears the hash. Any other pair
// -ENOTSUPP. The program writes the new header itself. Other types' runs stop "not supported yet".
std::uint64_t skb_change_proto(std::uint64_t ctx, std::uint64_t proto, std::uint64_t flags, std::uint64_t,
                               std::uint64_t, vm::RunContext* run) {
  constexpr std::uint64_t kLenDiff = 40 - 20;  // sizeof(struct ipv6hdr) - sizeof(struct iphdr)
  SkbCtx* skb = skb_of(run, ctx);
  if (skb == nullptr) return 0;
  if (skb->room_begin == 0) return fault(run, "bpf_skb_change_proto is not supported yet for this program type");
  if (flags) return ret(-EINVAL);
  const auto to = static_cast<std::uint16_t>(proto);
  const std::uint64_t off = skb->net_offset;  // skb_mac_header_len
  const std::uint64_t old_data = skb->data;
  if (skb->md.protocol == htons(ETH_P_IP) && to == htons(ETH_P_IPV6)) {
    if (skb->data - skb->room_begin < kLenDiff)
      return fault(run, "bpf_skb_change_proto past bpfvm's headroom is not supported yet");
    skb->data -= kLenDiff;
    std::memmove(ptr(skb->data), ptr(old_data), off);
    std::memset(ptr(skb->data + off), 0, kLenDiff);
  } else if (skb->md.protocol == htons(ETH_P_IPV6) && to == htons(ETH_P_IP)) {
    if (off + kLenDiff > linear_len(skb)) return ret(-ENOMEM);  // pskb_may_pull
    skb->data += kLenDiff;
    std::memmove(ptr(skb->data), ptr(old_data), off);
  } else {
    return ret(-kEnotsupp);
  }
  skb->md.protocol = to;
  clear_hash(*skb);
  skb->mac_header = skb->data;
  sync_skb(run, *skb);
  return 0;
}

// The loopback's ifindex, the device test_run's contexts name unless ctx_in says otherwise.
constexpr std::uint32_t kLoopbackIfindex = 1;

// The length check both bpf_check_mtu flavours make, in the kernel's int arithmetic: `len` (the
// packet's, or *mtu_len plus the hard header when that is set) plus len_diff against MTU + hard header.
bool mtu_fits(std::uint32_t packet_len, std::uint32_t mtu_len_in, std::int32_t len_diff, const HostDevice& dev) {
  const auto header = static_cast<std::uint32_t>(dev.hard_header_len);
  const std::uint32_t len = mtu_len_in ? mtu_len_in + header : packet_len;
  const auto total = static_cast<std::int32_t>(len + static_cast<std::uint32_t>(len_diff));
  return total <= dev.mtu + dev.hard_header_len;
}

// bpf_check_mtu(ctx, ifindex, mtu_len, len_diff, flags), tc and XDP (filter.c bpf_skb_check_mtu /
// bpf_xdp_check_mtu). ifindex 0 is the context's device (the skb's ifindex, the XDP receive queue's
// device: the loopback unless ctx_in named another), any other a device of the calling thread's network
// namespace (host_device.hpp; none -ENODEV). skb: flags other than BPF_MTU_CHK_SEGS, or SEGS with a
// len_diff or *mtu_len, -EINVAL; XDP: any flag -EINVAL. The length (skb->len / data_end - data, or
// *mtu_len plus the hard header when non-zero) plus len_diff fits in MTU + hard header:
// BPF_MTU_CHK_RET_SUCCESS, else FRAG_NEEDED, except for a GSO skb (SUCCESS; with SEGS -EINVAL, the
// test-run skb having no transport header). *mtu_len becomes the MTU unless an errno is returned.
std::uint64_t check_mtu(std::uint64_t ctx, std::uint64_t ifindex, std::uint64_t mtu_len, std::uint64_t len_diff,
                        std::uint64_t flags, vm::RunContext* run) {
  HelperRun* s = run_state(run);
  const bool xdp = s != nullptr && s->xdp != nullptr && reinterpret_cast<std::uintptr_t>(s->xdp) == ctx;
  SkbCtx* skb = xdp ? nullptr : skb_of(run, ctx);
  if (!xdp && skb == nullptr) return 0;
  if (!guest_ok(run, mtu_len, 4, true, "bpf_check_mtu mtu_len")) return 0;
  std::uint32_t mtu_in;
  std::memcpy(&mtu_in, ptr(mtu_len), 4);
  const auto diff = static_cast<std::int32_t>(static_cast<std::uint32_t>(len_diff));
  if (xdp ? flags != 0 : (flags & ~std::uint64_t{BPF_MTU_CHK_SEGS}) || ((flags & BPF_MTU_CHK_SEGS) && (diff || mtu_in)))
    return ret(-EINVAL);
  auto index = static_cast<std::uint32_t>(ifindex);
  if (index == 0) index = xdp ? s->xdp->md.ingress_ifindex : skb->md.ifindex;
  const HostDeviceLookup found = find_host_device(index);
  if (std::holds_alternative<NoHostDevice>(found)) return ret(-ENODEV);
  if (const auto* unknown = std::get_if<UnknownHostDevice>(&found))
    return fault(run, "bpf_check_mtu: " + unknown->reason + " (not supported yet)");
  const auto& dev = std::get<HostDevice>(found);
  const auto packet_len = static_cast<std::uint32_t>(xdp ? s->xdp->data_end - s->xdp->data : linear_len(skb));
  std::uint64_t answer = BPF_MTU_CHK_RET_SUCCESS;
  if (!mtu_fits(packet_len, mtu_in, diff, dev)) {
    answer = xdp || skb->md.gso_size == 0 ? BPF_MTU_CHK_RET_FRAG_NEEDED : BPF_MTU_CHK_RET_SUCCESS;
    if (!xdp && skb->md.gso_size != 0 && (flags & BPF_MTU_CHK_SEGS)) return ret(-EINVAL);
  }
  std::memcpy(ptr(mtu_len), &dev.mtu, 4);
  return answer;
}

// bpf_skb_under_cgroup(skb, map, index) (filter.c): -E2BIG out of range, -EAGAIN on an empty slot,
// else whether the skb's socket is in that cgroup's hierarchy. bpfvm's skbs come from test_run, whose
// socket the kernel's BPF_PROG_TEST_RUN allocates for the calling task — in that task's cgroup — so
// the answer is the one bpf_current_task_under_cgroup gives (maps::CgroupRef::holds_current_task).
std::uint64_t skb_under_cgroup(std::uint64_t ctx, std::uint64_t m, std::uint64_t index, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  if (skb_of(run, ctx) == nullptr) return 0;
  const auto* map = reinterpret_cast<const maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != maps::MapType::CgroupArray)
    return fault(run, "map is " + maps::map_type_name(map->type()) + ", not BPF_MAP_TYPE_CGROUP_ARRAY");
  return ret(static_cast<const maps::CgroupArrayMap*>(map)->current_task_under(static_cast<std::uint32_t>(index)));
}

// bpf_fib_lookup(ctx, params, plen, flags), skb and XDP alike (filter.c bpf_{skb,xdp}_fib_lookup):
// plen below sizeof(struct bpf_fib_lookup) or a flag outside DIRECT|OUTPUT|SKIP_NEIGH|TBID|SRC|MARK is
// -EINVAL, a family other than AF_INET/AF_INET6 -EAFNOSUPPORT, an ifindex naming no device -ENODEV. A
// bpfvm run has one device, the loopback (ifindex 1, the one test_run's contexts name), and no routes:
// it does not forward, so the kernel's answer there is BPF_FIB_LKUP_RET_FWD_DISABLED, params untouched
// (what 6.18 returns on a host with forwarding off, the default; a forwarding host goes on to route).
std::uint64_t fib_lookup(std::uint64_t, std::uint64_t params, std::uint64_t plen, std::uint64_t flags, std::uint64_t,
                         vm::RunContext* run) {
  constexpr std::uint64_t kKnownFlags = 0x3f;  // BPF_FIB_LOOKUP_DIRECT (1) .. BPF_FIB_LOOKUP_MARK (1 << 5)
  if (plen < sizeof(bpf_fib_lookup) || (flags & ~kKnownFlags)) return ret(-EINVAL);
  if (!guest_ok(run, params, sizeof(bpf_fib_lookup), false, "bpf_fib_lookup params")) return 0;
  bpf_fib_lookup p;
  std::memcpy(&p, ptr(params), sizeof p);
  if (p.family != AF_INET && p.family != AF_INET6) return ret(-EAFNOSUPPORT);
  if (p.ifindex != kLoopbackIfindex) return ret(-ENODEV);
  return BPF_FIB_LKUP_RET_FWD_DISABLED;
}

}  // namespace

void add_packet_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_skb_load_bytes, "bpf_skb_load_bytes", skb_load_bytes, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::PtrToUninitMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_skb_load_bytes_relative, "bpf_skb_load_bytes_relative", skb_load_bytes_relative, rt,
                RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::PtrToUninitMem, ArgType::ConstSize, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_store_bytes, "bpf_skb_store_bytes", skb_store_bytes, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::PtrToMem, ArgType::ConstSize, ArgType::Anything}));
  const std::initializer_list<ArgType> csum_args{ArgType::PtrToCtx, ArgType::Anything, ArgType::Anything,
                                                 ArgType::Anything, ArgType::Anything};
  reg.add(entry(BPF_FUNC_l3_csum_replace, "bpf_l3_csum_replace", l3_csum_replace, rt, RetType::Integer, csum_args));
  reg.add(entry(BPF_FUNC_l4_csum_replace, "bpf_l4_csum_replace", l4_csum_replace, rt, RetType::Integer, csum_args));
  reg.add(entry(BPF_FUNC_csum_diff, "bpf_csum_diff", csum_diff, rt, RetType::Integer,
                {ArgType::PtrToMemOrNull, ArgType::ConstSizeOrZero, ArgType::PtrToMemOrNull,
                 ArgType::ConstSizeOrZero, ArgType::Anything}));
  // Not a helper id: the engines call it for LD_ABS/LD_IND (the signature is unused).
  reg.set_packet_load(entry(0, "ld_abs/ld_ind", skb_legacy_load, rt, RetType::Integer, {}));
  reg.add(entry(BPF_FUNC_redirect, "bpf_redirect", redirect, rt, RetType::Integer, {ArgType::Anything, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_redirect_map, "bpf_redirect_map", redirect_map, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::Anything, ArgType::Anything}));
  const std::initializer_list<ArgType> ctx_and_two{ArgType::PtrToCtx, ArgType::Anything, ArgType::Anything};
  reg.add(entry(BPF_FUNC_skb_pull_data, "bpf_skb_pull_data", skb_pull_data, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_change_tail, "bpf_skb_change_tail", skb_change_tail, rt, RetType::Integer, ctx_and_two));
  reg.add(entry(BPF_FUNC_skb_change_head, "bpf_skb_change_head", skb_change_head, rt, RetType::Integer, ctx_and_two));
  reg.add(entry(BPF_FUNC_skb_adjust_room, "bpf_skb_adjust_room", skb_adjust_room, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::Anything, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_under_cgroup, "bpf_skb_under_cgroup", skb_under_cgroup, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_fib_lookup, "bpf_fib_lookup", fib_lookup, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::PtrToMem, ArgType::ConstSize, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_redirect_neigh, "bpf_redirect_neigh", redirect_neigh, rt, RetType::Integer,
                {ArgType::Anything, ArgType::PtrToMemOrNull, ArgType::ConstSizeOrZero, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_redirect_peer, "bpf_redirect_peer", redirect_peer, rt, RetType::Integer,
                {ArgType::Anything, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_skb_change_proto, "bpf_skb_change_proto", skb_change_proto, rt, RetType::Integer, ctx_and_two));
  reg.add(entry(BPF_FUNC_check_mtu, "bpf_check_mtu", check_mtu, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::PtrToInt, ArgType::Anything, ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
