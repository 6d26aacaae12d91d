// RunContext: the per-run state engines and helpers share — memory regions, fault reporting, host data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"

namespace bpfvm::vm {

struct HelperEntry;
struct RunContext;

/// Engine hook through which helpers call back into the program (bpf_loop, for_each_map_elem):
/// runs the subprogram whose BPF_PSEUDO_FUNC value is `fn_value` with r1..r5 = args on a fresh frame
/// and returns its r0. `engine` is RunContext::engine.
using CallbackFn = Result<std::uint64_t> (*)(const void* engine, RunContext& run, std::uint64_t fn_value,
                                             std::span<const std::uint64_t, 5> args);

/// A callback kept past the run that named it (bpf_timer_set_callback): `call` runs the function at
/// `fn_value` of the engine object `code` (the Interpreter, the JIT's ProgramCode) later, as a run of
/// its own on `run` (r1..r5 = args), and returns its r0. Valid while that engine object lives.
struct KeptCallback {
  Result<std::uint64_t> (*call)(const void* code, RunContext& run, std::uint64_t fn_value,
                                std::span<const std::uint64_t, 5> args) = nullptr;
  const void* code = nullptr;
  std::uint64_t fn_value = 0;
};
/// Engine hook that turns the running program's BPF_PSEUDO_FUNC value into a KeptCallback.
using KeepCallbackFn = KeptCallback (*)(const void* engine, std::uint64_t fn_value);

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

  /// Set by the engine for the run: checked mode (helpers then validate program pointers with
  /// allowed()), the budget, and the instructions executed so far (kept current across helper calls,
  /// so callbacks count against the same budget; 0 budget = unlimited).
  bool checked = false;
  std::uint64_t budget_insns = 0;
  std::uint64_t insns_executed = 0;

  /// Coverage mode (ExecOptions::edge_counters): the counters and the engine whose pcs index them
  /// (the program the run started in); set by the engine for the run's duration.
  std::uint32_t* edge_counters = nullptr;
  const void* edge_counters_owner = nullptr;

  /// Tail calls taken so far in this run (kernel limit MAX_TAIL_CALL_CNT = 33; engines reset it when a
  /// run starts).
  std::uint32_t tail_calls = 0;
  /// bpf_tail_call stores the program to continue with here; the engine switches to it when the
  /// helper returns. What a target is belongs to the engine (the interpreter: `const Interpreter*`).
  const void* tail_call_target = nullptr;
  /// True while an engine that honours tail_call_target runs the program.
  bool engine_tail_calls = false;

  /// What every top-level run starts from: no instructions counted, no tail call taken or pending.
  void begin_run() {
    insns_executed = 0;
    tail_calls = 0;  // the kernel's prologue resets tail_call_cnt in every run
    tail_call_target = nullptr;
  }

  /// Callbacks into the program, set by the engine for the run's duration.
  CallbackFn invoke_callback = nullptr;
  const void* engine = nullptr;
  /// Keeps a callback for later (bpf_timer), set by the engine with invoke_callback.
  KeepCallbackFn keep_callback = nullptr;
  Result<std::uint64_t> call_back(std::uint64_t fn_value, std::span<const std::uint64_t, 5> args) {
    if (invoke_callback == nullptr)
      return make_error(Errc::Unsupported, "this engine cannot call back into the program");
    return invoke_callback(engine, *this, fn_value, args);
  }

  /// The entry of `regions` that allows the access, or null (the stack and owners are not asked).
  const Region* region_allowing(std::uintptr_t addr, std::size_t size_bytes, bool write) const {
    for (const auto& r : regions)
      if (r.contains(addr, size_bytes) && (!write || r.writable)) return &r;
    return nullptr;
  }

  /// Whether one of `owners` (map memory) handed out the accessed bytes.
  bool owned(std::uintptr_t addr, std::size_t size_bytes, bool write) const {
    for (const auto* o : owners)
      if (o->owns(addr, size_bytes, write)) return true;
    return false;
  }

  /// Checked-mode query used by engines and by helpers that touch program memory (probe_read…).
  bool allowed(std::uintptr_t addr, std::size_t size_bytes, bool write) const {
    return stack.contains(addr, size_bytes) || region_allowing(addr, size_bytes, write) != nullptr ||
           owned(addr, size_bytes, write);
  }
};

}  // namespace bpfvm::vm
