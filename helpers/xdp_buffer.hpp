// Internal to helpers/: XDP frame geometry and keeping the ctx mirror and packet Region in sync.
#pragma once

#include <cstdint>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {

inline constexpr std::uint64_t kXdpHeadroom = 256;         // XDP_PACKET_HEADROOM
inline constexpr std::uint64_t kXdpFrameBytes = 40;        // sizeof(struct xdp_frame) on 64-bit
inline constexpr std::uint64_t kXdpSharedInfoBytes = 320;  // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
inline constexpr std::uint64_t kXdpFrameSize = 4096;       // test_run frame: one page

/// After data/data_meta/data_end moved: refresh md's low-32-bit mirrors and the packet Region.
inline void sync_xdp(vm::RunContext* run, XdpCtx& x) {
  x.md.data = static_cast<std::uint32_t>(x.data);
  x.md.data_end = static_cast<std::uint32_t>(x.data_end);
  x.md.data_meta = static_cast<std::uint32_t>(x.data_meta);
  move_packet_region(run, x.data_meta, x.data_end - x.data_meta);
}

}  // namespace bpfvm::helpers::detail
