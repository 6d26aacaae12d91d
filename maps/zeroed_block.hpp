// ZeroedBlock: a zero-filled heap block whose untouched pages cost no memory (map values).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace bpfvm::maps {

struct FreeZeroedBlock {
  void operator()(std::byte* p) const { std::free(p); }
};
using ZeroedBlock = std::unique_ptr<std::byte, FreeZeroedBlock>;

/// `bytes` zero bytes, 16-byte aligned. calloc takes a large block straight from mmap and does not
/// clear the fresh pages, so a map's values use memory only once written and creating a large map
/// costs no time (a value-initialised array would write every page). Out of memory: std::bad_alloc,
/// as `new` (api/c_api.cpp catches it at the C boundary).
inline ZeroedBlock allocate_zeroed(std::size_t bytes) {
  ZeroedBlock block(static_cast<std::byte*>(std::calloc(bytes == 0 ? 1 : bytes, 1)));
  if (!block) throw std::bad_alloc();
  return block;
}

}  // namespace bpfvm::maps
