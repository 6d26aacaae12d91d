// Loads through a map pointer (the kernel's CONST_PTR_TO_MAP, RegType::MapPtr): the kernel's
// check_ptr_to_map_access reads its struct bpf_map (struct bpf_array, bpf_htab, ... by map type) by the
// layout in the kernel's BTF. bpfvm's maps are no kernel objects: a load reads what bpfvm can truthfully
// give at those offsets, a constant the verifier knows, so the insn becomes `mov32 dst, value`.
#pragma once

#include <cstdint>

#include "verifier/checks.hpp"

namespace bpfvm::verifier {

/// A load (or refused store) of `size` bytes at map pointer `p` + off. On a permitted load *loaded is a
/// constant: the map's type, key_size, value_size, max_entries and map_flags at their struct bpf_map
/// offsets and, for array maps, struct bpf_array's elem_size; every other scalar byte reads 0 (bpfvm has
/// no kernel state for it: ids, counters, hashes, locks). A whole pointer member (ops, inner_map_meta,
/// ...) is refused "not supported yet": no kernel object stands behind a bpfvm map.
Check map_ptr_access(const VerifierOptions& opts, std::uint32_t pc, ViolationDetail d, const RegValue& p,
                     std::int64_t off, int size, bool write, RegValue* loaded);

}  // namespace bpfvm::verifier
