// What the __sk_buff helpers share (packet_helpers.cpp defines the functions): the run's skb behind a
// context argument, its linear length, the pointer refresh after a helper moved data, and the skb
// state helpers clear.
#pragma once

#include <cstdint>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {

/// The kernel's ENOTSUPP (524; not in userspace errno.h).
inline constexpr long kEnotsupp = 524;

/// The __sk_buff behind `ctx` (r1 for helpers), or nullptr after a fault: this run has no skb, or
/// `ctx` is not the run's context ("<reg> is not the program's context").
SkbCtx* skb_of(vm::RunContext* run, std::uint64_t ctx, const char* reg = "r1");

/// After a helper moved data or data_end: len, the u32 mirrors and the packet Region (the kernel's
/// bpf_compute_data_pointers).
void sync_skb(vm::RunContext* run, SkbCtx& skb);

inline std::uint64_t linear_len(const SkbCtx* skb) { return skb->data_end - skb->data; }

/// skb_network_header: test_run's tc skbs have data at the MAC header and the network header
/// net_offset bytes on; the other types start at the network header (net_offset 0).
inline std::uint64_t network_header(const SkbCtx& skb) { return skb.data + skb.net_offset; }

/// skb_clear_hash: hash 0, neither software- nor L4-computed.
inline void clear_hash(SkbCtx& skb) {
  skb.md.hash = 0;
  skb.l4_hash = skb.sw_hash = false;
}

/// __skb_reset_checksum_unnecessary: an skb whose checksum was known good is back to CHECKSUM_NONE.
inline void reset_checksum_unnecessary(SkbCtx& skb) {
  if (skb.ip_summed == kChecksumUnnecessary) skb.ip_summed = kChecksumNone, skb.csum_level = 0;
}

}  // namespace bpfvm::helpers::detail
