// RunDomain: CPU slot assignment and epoch-based grace periods for map memory.
#include "maps/run_domain.hpp"

#include <algorithm>
#include <thread>

namespace bpfvm::maps {
namespace {
// The guard this thread currently holds (innermost domain only; nesting across domains restores).
thread_local const RunDomain* tl_domain = nullptr;
thread_local unsigned tl_cpu = 0;
}  // namespace

RunDomain::RunDomain(unsigned nr_cpus)
    : slots_(nr_cpus ? nr_cpus : std::max(1u, std::thread::hardware_concurrency())) {}

unsigned RunDomain::this_cpu() const { return tl_domain == this ? tl_cpu : 0; }
bool RunDomain::in_run() const { return tl_domain == this; }

unsigned RunDomain::claim_slot() {
  // Start at a per-thread hint so threads spread over slots without contending on slot 0; the hint
  // is the slot this thread had last time, so a thread keeps finding its own slot free at once
  // (one CAS, no division: this is on every run's path).
  constexpr unsigned kNoHint = ~0u;
  thread_local unsigned tl_hint = kNoHint;
  const auto n = static_cast<unsigned>(slots_.size());
  unsigned s = tl_hint;
  if (s >= n) s = static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % n);
  for (unsigned tried = 0;;) {
    bool expected = false;
    if (!slots_[s].claimed.load(std::memory_order_relaxed) &&
        slots_[s].claimed.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      tl_hint = s;
      return s;
    }
    if (++s == n) s = 0;
    if (++tried == n) {
      tried = 0;
      std::this_thread::yield();
    }
  }
}

void RunDomain::enter(unsigned cpu) {
  slots_[cpu].active_epoch.store(epoch_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  // An RMW on epoch_ orders us against every retire_tag(): if it came first, its unlink happens
  // before our reads of map links; if we came first, our store above happens before the retirer's
  // read of active_epoch (which is <= its tag). Stands in for a seq_cst fence, which
  // ThreadSanitizer does not model; it is the one full barrier of entering a run.
  epoch_.fetch_add(0, std::memory_order_seq_cst);
}

bool RunDomain::epoch_moved(unsigned cpu) const {
  return slots_[cpu].active_epoch.load(std::memory_order_relaxed) != epoch_.load(std::memory_order_relaxed);
}

void RunDomain::leave(unsigned cpu) {
  // Release: a reclaimer that reads 0 here (safe_below) sees every map read of the run before it.
  slots_[cpu].active_epoch.store(0, std::memory_order_release);
  slots_[cpu].claimed.store(false, std::memory_order_release);
}

std::uint64_t RunDomain::retire_tag() { return epoch_.fetch_add(1, std::memory_order_seq_cst); }

bool RunDomain::grace_passed(std::uint64_t tag) const { return tag < safe_below(); }

std::uint64_t RunDomain::safe_below() const {
  // A run that entered at epoch e may hold memory retired under any tag >= e.
  std::uint64_t lowest = epoch_.load(std::memory_order_seq_cst);
  for (const auto& s : slots_) {
    const std::uint64_t e = s.active_epoch.load(std::memory_order_seq_cst);
    if (e != 0) lowest = std::min(lowest, e);
  }
  return lowest;
}

RunGuard::RunGuard(RunDomain& domain) : domain_(domain) {
  saved_domain_ = tl_domain;
  saved_cpu_ = tl_cpu;
  if (tl_domain == &domain) {
    cpu_ = tl_cpu;
    return;
  }
  outer_ = true;
  cpu_ = domain.claim_slot();
  domain.enter(cpu_);
  tl_domain = &domain;
  tl_cpu = cpu_;
}

void RunGuard::quiescent_state() {
  // Re-announce at the current epoch; nested guards leave it to the outer one. When nothing was
  // retired since we announced, the epoch has not moved and there is nothing to release.
  if (outer_ && domain_.epoch_moved(cpu_)) domain_.enter(cpu_);
}

RunGuard::~RunGuard() {
  if (outer_) domain_.leave(cpu_);
  tl_domain = saved_domain_;
  tl_cpu = saved_cpu_;
}

}  // namespace bpfvm::maps
