// PseudoResolver: how an engine learns what a map/BTF pseudo lddw loads, when it prepares a program.
#pragma once

#include <cstdint>
#include <functional>

#include "bpfvm/result.hpp"
#include "vm/isa.hpp"

namespace bpfvm::vm {

/// Returns the 64-bit value loaded by `lddw` with pseudo source `src` (MapFd, MapValue, BtfId, MapIdx,
/// MapIdxValue): a map handle, or the address of a map value plus `next_imm`. Plain immediates and
/// BPF_PSEUDO_FUNC never reach it (engines resolve those themselves). An empty resolver means the
/// program has no maps; engines then refuse map pseudo loads with Errc::Unsupported.
using PseudoResolver = std::function<Result<std::uint64_t>(isa::LddwSrc src, std::int32_t imm,
                                                           std::int32_t next_imm, std::uint32_t pc)>;

}  // namespace bpfvm::vm
