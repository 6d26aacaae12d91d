// DirectArray: a map lookup that is pure address arithmetic, which engines may inline.
#pragma once

#include <cstdint>

namespace bpfvm::vm {

/// The value of key index i < max_entries lives at base + i * stride for the map's lifetime
/// (BPF_MAP_TYPE_ARRAY); other indexes have no value (lookup returns NULL).
struct DirectArray {
  std::uintptr_t base = 0;
  std::uint32_t stride = 0;
  std::uint32_t max_entries = 0;
};

}  // namespace bpfvm::vm
