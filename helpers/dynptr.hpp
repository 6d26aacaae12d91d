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
struct DynptrKern {
  std::byte* data;
  std::uint32_t size;
  std::uint32_t offset;
};
static_assert(sizeof(DynptrKern) == 16);

inline constexpr std::uint32_t kDynptrMaxSize = (1u << 24) - 1;  // DYNPTR_MAX_SIZE

// Names the checked-mode Region drain adds for its dynptr, so the dynptr helpers recognise it (compared
// by address: one array for every translation unit).
inline constexpr char kDynptrRegion[] = "bpf_user_ringbuf_drain dynptr";

// The dynptr a helper or kfunc was given (dynptr_helpers.cpp): drain's callback argument or a stack
// dynptr; checked runs confirm its 16 bytes are readable (nullptr after a fault). `foreign` is set for a
// stack dynptr, whose memory each use must check.
const DynptrKern* dynptr_of(vm::RunContext* run, std::uint64_t p, const char* helper, bool& foreign);

// bpf_dynptr_check_off_len: 0, or -E2BIG when [offset, offset + len) is not inside the dynptr.
int check_off_len(const DynptrKern& d, std::uint64_t offset, std::uint64_t len);

}  // namespace bpfvm::helpers::detail
