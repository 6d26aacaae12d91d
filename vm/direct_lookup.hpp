// DirectLookup: a map's own lookup entry, which engines may call instead of the helper dispatch.
#pragma once

#include <cstdint>

namespace bpfvm::vm {

/// bpf_map_lookup_elem for one map whose handle an engine knows when it compiles the call (an lddw
/// of that map in r1), as the kernel's verifier patches the helper call into a direct call of the
/// map type's lookup. Called with (map handle, key address) from inside a run of a fast or counted
/// build (the key was proven readable); returns the value's address or 0, exactly as the helper.
/// It never faults, spends no budget and calls back into nothing.
using DirectLookupFn = std::uint64_t (*)(std::uint64_t map_handle, std::uint64_t key) noexcept;

}  // namespace bpfvm::vm
