// The kernel helper table: bpf_func_id numbers, implementations and verifier signatures.
#pragma once

#include <cstdint>
#include <span>

#include "helpers/runtime.hpp"
#include "vm/helper_registry.hpp"
#include "vm/pseudo_resolver.hpp"

namespace bpfvm::helpers {

/// Adds every kernel helper bpfvm implements to `registry`, under the kernel's enum bpf_func_id
/// numbers (taken from <linux/bpf.h>, never typed by hand). Each entry's `user` is `runtime`, which
/// must outlive the registry's runs. Embedders may add or replace ids afterwards.
/// Helpers that exist in the table but lack an engine/map hook fault with "... not supported yet".
void register_kernel_helpers(vm::HelperRegistry& registry, HelperRuntime& runtime);

/// A PseudoResolver for programs whose map references are indexes into `maps` (fd or idx pseudo
/// sources alike): MapFd/MapIdx imm -> the maps::Map* as u64; MapValue/MapIdxValue -> the address
/// of the map's value plus next_imm (single-entry arrays only, as the kernel's
/// map_direct_value_addr). The maps must outlive every engine prepared with it.
vm::PseudoResolver map_index_resolver(std::span<maps::Map* const> maps);

/// MAX_TAIL_CALL_CNT: tail calls one run may take.
inline constexpr std::uint32_t kMaxTailCalls = 33;

}  // namespace bpfvm::helpers
