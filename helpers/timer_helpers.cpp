// bpf_timer_init, bpf_timer_set_callback, bpf_timer_start, bpf_timer_cancel over the VM's TimerQueue.
#include <linux/bpf.h>

#include "helpers/guest_memory.hpp"
#include "helpers/kernel_helpers.hpp"
#include "helpers/timer_queue.hpp"
#include "maps/map.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

const std::byte* timer_at(std::uint64_t addr) { return reinterpret_cast<const std::byte*>(static_cast<std::uintptr_t>(addr)); }

// bpf_timer_init(timer, map, flags): the verifier proved `timer` is the struct bpf_timer of a value of `map`.
std::uint64_t timer_init(std::uint64_t timer, std::uint64_t m, std::uint64_t flags, std::uint64_t, std::uint64_t,
                         vm::RunContext* run) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  return ret(runtime_of(run).timers->init(*map, timer_at(timer), flags));
}

// bpf_timer_set_callback(timer, callback_fn): the callback is kept past this run (the engine's
// keep_callback) and run later by the program this run belongs to (HelperRun::timer_host).
std::uint64_t timer_set_callback(std::uint64_t timer, std::uint64_t fn, std::uint64_t, std::uint64_t, std::uint64_t,
                                 vm::RunContext* run) {
  const HelperRun* hr = run_state(run);
  if (run->keep_callback == nullptr || hr == nullptr || hr->timer_host == nullptr)
    return fault(run, "bpf_timer_set_callback: this run cannot keep a callback for later (not supported yet)");
  return ret(runtime_of(run).timers->set_callback(timer_at(timer), run->keep_callback(run->engine, fn), hr->timer_host));
}

std::uint64_t timer_start(std::uint64_t timer, std::uint64_t nsecs, std::uint64_t flags, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  HelperRuntime& rt = runtime_of(run);
  return ret(rt.timers->start(timer_at(timer), nsecs, flags, rt.clocks));
}

std::uint64_t timer_cancel(std::uint64_t timer, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  return ret(runtime_of(run).timers->cancel(timer_at(timer)));
}

}  // namespace

void add_timer_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_timer_init, "bpf_timer_init", timer_init, rt, RetType::Integer,
                {ArgType::PtrToTimer, ArgType::ConstMapPtr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_timer_set_callback, "bpf_timer_set_callback", timer_set_callback, rt, RetType::Integer,
                {ArgType::PtrToTimer, ArgType::PtrToFunc}));
  reg.add(entry(BPF_FUNC_timer_start, "bpf_timer_start", timer_start, rt, RetType::Integer,
                {ArgType::PtrToTimer, ArgType::Anything, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_timer_cancel, "bpf_timer_cancel", timer_cancel, rt, RetType::Integer, {ArgType::PtrToTimer}));
}

}  // namespace bpfvm::helpers::detail
