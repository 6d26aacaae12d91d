// RunContext: the per-run state engines and helpers share — memory regions, fault reporting, host data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bpfvm::vm {

struct HelperEntry;

/// A host memory range a program may touch in checked mode.
struct Region {
  std::uintptr_t begin = 0;
  std::size_t size_bytes = 0;
  bool writable = false;
  const char* what = "memory";  // named in fault messages: "stack", "packet", "ctx", "map value"

  bool contains(std::uintptr_t addr, std::size_t size) const {
    return addr >= begin && size <= size_bytes && addr - begin <= size_bytes - size;
  }
};

/// Memory whose valid ranges change while a program runs (map storage, ring buffers). Checked mode
/// asks every owner the engine was given whether an access falls inside memory it handed out.
class MemoryOwner {
 public:
  virtual ~MemoryOwner() = default;
  /// True when [addr, addr+size) lies inside memory this owner gave the program, writable if asked.
  virtual bool owns(std::uintptr_t addr, std::size_t size_bytes, bool write) const = 0;
};

/// State of one program run. Not shared between threads: each concurrent run has its own.
struct RunContext {
  /// Set by the engine just before it calls a helper, so the helper can read its user data.
  const HelperEntry* current_helper = nullptr;
  /// The embedder's pointer for this run (task info, output sinks); engines never read it.
  void* host = nullptr;

  /// The live stack frames of the running program (the engine keeps it current across calls).
  Region stack{0, 0, true, "stack"};
  /// Checked mode: regions besides the stack (input buffer, ctx, packet), and dynamic owners (maps).
  std::vector<Region> regions;
  std::vector<const MemoryOwner*> owners;

  /// A helper that refuses its arguments sets this; the engine stops the run with HelperFault.
  std::string helper_fault;
  bool faulted() const { return !helper_fault.empty(); }

  /// Tail calls taken so far in this run (kernel limit MAX_TAIL_CALL_CNT = 33).
  std::uint32_t tail_calls = 0;

  /// Checked-mode query used by engines and by helpers that touch program memory (probe_read…).
  bool allowed(std::uintptr_t addr, std::size_t size_bytes, bool write) const {
    if (stack.contains(addr, size_bytes)) return true;
    for (const auto& r : regions)
      if (r.contains(addr, size_bytes) && (!write || r.writable)) return true;
    for (const auto* o : owners)
      if (o->owns(addr, size_bytes, write)) return true;
    return false;
  }
};

}  // namespace bpfvm::vm
