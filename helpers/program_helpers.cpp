// Control-flow helpers: bpf_tail_call and bpf_loop (both need an engine hook, see runtime.hpp).
#include <linux/bpf.h>

#include <array>
#include <cerrno>

#include "helpers/guest_memory.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/map.hpp"
#include "maps/prog_array_map.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::uint64_t kMaxLoops = 1u << 23;  // BPF_MAX_LOOPS

// bpf_tail_call(ctx, prog_array, index), as the kernel interpreter's JMP_TAIL_CALL: an index past
// max_entries fails, then a tail call past the 33rd fails; otherwise the call counts, and an
// empty slot fails after counting. On failure the program continues (r0 = -ENOENT; the verifier treats r0 as unset).
// On success the target goes to RunContext::tail_call_target for the engine to switch to.
std::uint64_t tail_call(std::uint64_t, std::uint64_t m, std::uint64_t index, std::uint64_t, std::uint64_t,
                        vm::RunContext* run) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  if (!run->engine_tail_calls)
    return fault(run, "the engine has no tail-call hook (not supported yet)");
  if (map->type() != maps::MapType::ProgArray)
    return fault(run, "map is " + maps::map_type_name(map->type()) + ", not BPF_MAP_TYPE_PROG_ARRAY");
  const auto i = static_cast<std::uint32_t>(index);
  if (i >= map->spec().max_entries) return ret(-ENOENT);
  if (run->tail_calls >= kMaxTailCalls) return ret(-ENOENT);
  ++run->tail_calls;
  const void* target = static_cast<maps::ProgArrayMap*>(map)->get_program(i);
  if (target == nullptr) return ret(-ENOENT);
  run->tail_call_target = target;
  return 0;
}

// bpf_loop(nr_loops, callback_fn, callback_ctx, flags): calls callback(i, ctx) for i in
// [0, nr_loops) until it returns non-zero; returns the number of calls made. -EINVAL for flags,
// -E2BIG above BPF_MAX_LOOPS (1 << 23).
std::uint64_t loop(std::uint64_t nr_loops, std::uint64_t fn, std::uint64_t cb_ctx, std::uint64_t flags,
                   std::uint64_t, vm::RunContext* run) {
  if (run->invoke_callback == nullptr)
    return fault(run, "the engine provides no callback hook (not supported yet)");
  if (flags) return ret(-EINVAL);
  const std::uint32_t n = static_cast<std::uint32_t>(nr_loops);
  if (n > kMaxLoops) return ret(-E2BIG);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::array<std::uint64_t, 5> args{i, cb_ctx, 0, 0, 0};
    auto r = run->call_back(fn, std::span<const std::uint64_t, 5>(args));
    if (!r) return fault(run, "callback: " + r.error().message());
    if (*r) return i + 1;
  }
  return n;
}

}  // namespace

void add_program_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_tail_call, "bpf_tail_call", tail_call, rt, RetType::Void,
                {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_loop, "bpf_loop", loop, rt, RetType::Integer,
                {ArgType::Anything, ArgType::PtrToFunc, ArgType::PtrToStack, ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
