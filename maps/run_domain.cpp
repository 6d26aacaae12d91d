// RunDomain: CPU slot assignment and epoch-based grace periods for map memory.
#include "maps/run_domain.hpp"

#include <algorithm>
#include <thread>

namespace bpfvm::maps {
thread_local constinit detail::ThreadRun detail::tl_run{};

RunDomain::RunDomain(unsigned nr_cpus)
    : slots_(nr_cpus ? nr_cpus : std::max(1u, std::thread::hardware_concurrency())),
      nr_slots_(static_cast<unsigned>(slots_.size())) {}

// Why one CAS is enough (no fence, no RMW on epoch_ when a run enters). A run R loads the epoch e
// (acquire) and CASes its slot 0 -> e (acq_rel); it leaves with a release store of 0. Memory M is
// unlinked, then retired under t = epoch_.fetch_add(1) (seq_cst); a reclaimer that the unlink
// happens before reuses M only when safe_below() > t. Safe_below reads each slot; a value v:
// - v <= t keeps the minimum at or below t: M waits.
// - v > t was written by a run whose acquire load of epoch_ read the retire's fetch_add or a later
//   one (RMWs: one release sequence), so the unlink happens before that run's reads; every later
//   run on the slot CASes (acquire) after its predecessors' release stores, so the unlink happens
//   before their reads too: none of them can reach M.
// - 0 is confirmed with an RMW (fetch_or 0, acq_rel). It reads either a leave's release store
//   (that run's reads happen before the reuse) or a 0 that precedes R's CAS in the slot's
//   modification order; R's CAS then reads from the RMW's release sequence or from a later run's
//   leave, so the RMW, and the unlink before it, happen before R's reads: R cannot reach M.
// ThreadSanitizer checks the same protocol: it models acquire/release and RMWs (not fences).
unsigned RunDomain::claim_other_slot() {
  // Start at the per-thread hint (claim_slot found it busy) or, the first time, at a slot derived
  // from the thread id, so threads spread over slots without contending on slot 0.
  const auto n = static_cast<unsigned>(slots_.size());
  unsigned s = detail::tl_run.hint;
  if (s >= n) s = static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % n);
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  for (unsigned tried = 0;;) {
    std::uint64_t expected = 0;
    if (slots_[s].active_epoch.load(std::memory_order_relaxed) == 0 &&
        slots_[s].active_epoch.compare_exchange_strong(expected, epoch, std::memory_order_acq_rel,
                                                       std::memory_order_relaxed)) {
      detail::tl_run.hint = s;
      return s;
    }
    if (++s == n) s = 0;
    if (++tried == n) {
      tried = 0;
      std::this_thread::yield();
    }
  }
}

void RunDomain::reannounce(unsigned cpu) {
  // The slot stays non-zero (held), so a store is enough: a reclaimer that reads the old epoch only
  // waits longer; one that reads the new one is covered by the acquire load, as in claim_slot.
  slots_[cpu].active_epoch.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
}

bool RunDomain::epoch_moved(unsigned cpu) const {
  return slots_[cpu].active_epoch.load(std::memory_order_relaxed) != epoch_.load(std::memory_order_relaxed);
}

std::uint64_t RunDomain::retire_tag() { return epoch_.fetch_add(1, std::memory_order_seq_cst); }

bool RunDomain::grace_passed(std::uint64_t tag) const { return tag < safe_below(); }

std::uint64_t RunDomain::safe_below() const {
  // A run that entered at epoch e may hold memory retired under any tag >= e.
  std::uint64_t lowest = epoch_.load(std::memory_order_seq_cst);
  for (auto& s : slots_) {
    std::uint64_t e = s.active_epoch.load(std::memory_order_acquire);
    if (e == 0) e = s.active_epoch.fetch_or(0, std::memory_order_acq_rel);  // see claim_slot
    if (e != 0) lowest = std::min(lowest, e);
  }
  return lowest;
}

void RunGuard::quiescent_state() {
  // Re-announce at the current epoch; nested guards leave it to the outer one. When nothing was
  // retired since we announced, the epoch has not moved and there is nothing to release.
  if (outer_ && domain_.epoch_moved(cpu_)) domain_.reannounce(cpu_);
}

}  // namespace bpfvm::maps
