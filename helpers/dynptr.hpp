// The dynptr bpfvm's helpers hand to programs: the layout behind struct bpf_dynptr (what drain passes its
// callback, what bpf_dynptr_from_mem and bpf_ringbuf_reserve_dynptr fill in a program's stack) and the name of the checked-mode region
// drain adds for its own, shared by user_ringbuf_helpers.cpp and dynptr_helpers.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vm/run_context.hpp"

namespace bpfvm::helpers::detail {

// The kernel's struct bpf_dynptr_kern (16 bytes, what struct bpf_dynptr holds): the memory, its size
// and the offset into it. Drain makes one over each sample on the host stack for the callback's
// duration; bpf_dynptr_from_mem (local) and bpf_ringbuf_reserve_dynptr (a ring buffer record) fill one in the program's stack (the verifier keeps the program from
// reading or storing its bytes; checked runs still confirm the memory it names on every use).
// As the kernel's, `size` holds the size in its low 24 bits, the kind in bits 28-30 and the read-only
// flag in bit 31 (dynptr_len / dynptr_kind / dynptr_rdonly read them). Memory dynptrs (local, ring
// buffer, drain's sample; kind 0) name their bytes in `data`; packet dynptrs (bpf_dynptr_from_skb/_xdp)
// name the run's SkbCtx / XdpCtx there, and each use finds the bytes in the packet as it is then.
struct DynptrKern {
  std::byte* data;
  std::uint32_t size;
  std::uint32_t offset;
};
static_assert(sizeof(DynptrKern) == 16);

inline constexpr std::uint32_t kDynptrMaxSize = (1u << 24) - 1;  // DYNPTR_MAX_SIZE
inline constexpr std::uint32_t kDynptrKindShift = 28, kDynptrRdonlyBit = 1u << 31;
inline constexpr std::uint32_t kDynptrSkb = 3, kDynptrXdp = 4;  // enum bpf_dynptr_type's numbers

inline std::uint32_t dynptr_len(const DynptrKern& d) { return d.size & kDynptrMaxSize; }
inline std::uint32_t dynptr_kind(const DynptrKern& d) { return (d.size >> kDynptrKindShift) & 7; }
inline bool dynptr_rdonly(const DynptrKern& d) { return (d.size & kDynptrRdonlyBit) != 0; }
inline bool dynptr_is_packet(const DynptrKern& d) {
  return dynptr_kind(d) == kDynptrSkb || dynptr_kind(d) == kDynptrXdp;
}

// Names the checked-mode Region drain adds for its dynptr, so the dynptr helpers recognise it (compared
// by address: one array for every translation unit).
inline constexpr char kDynptrRegion[] = "bpf_user_ringbuf_drain dynptr";

// The dynptr a helper or kfunc was given (dynptr_helpers.cpp): drain's callback argument or a stack
// dynptr; checked runs confirm its 16 bytes are readable (nullptr after a fault). `foreign` is set for a
// stack dynptr, whose memory each use must check.
const DynptrKern* dynptr_of(vm::RunContext* run, std::uint64_t p, const char* helper, bool& foreign);

// bpf_dynptr_check_off_len: 0, or -E2BIG when [offset, offset + len) is not inside the dynptr.
int check_off_len(const DynptrKern& d, std::uint64_t offset, std::uint64_t len);

// A packet dynptr's bytes [offset + off, + len) in the packet as it is now: nullptr when they are not all
// inside it (the packet may have shrunk since the dynptr was made), or after a fault (the dynptr names
// a context other than the run's).
std::byte* packet_dynptr_bytes(vm::RunContext* run, const DynptrKern& d, std::uint32_t off, std::uint32_t len,
                               const char* helper);

}  // namespace bpfvm::helpers::detail
