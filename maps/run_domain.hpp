// RunDomain: the "CPUs" programs run on (per-thread slots) and the grace periods that keep map memory alive.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace bpfvm::maps {

class RunDomain;

namespace detail {
// The calling thread's run state. In the header so RunGuard's entry and exit inline into every run
// (constinit: no TLS-init call); one object, so a guard finds all three fields from one TLS address
// (issue #19: three variables cost a thread-pointer load and an offset each per access).
struct ThreadRun {
  // The guard this thread currently holds (innermost domain only; nesting across domains restores).
  const RunDomain* domain = nullptr;
  unsigned cpu = 0;
  // The slot this thread claimed last (claim_slot tries it first); ~0u = none yet.
  unsigned hint = ~0u;
};
extern thread_local constinit ThreadRun tl_run;
}  // namespace detail

/// One VM's set of CPU slots. The kernel runs a program with preemption disabled on one CPU; we run it
/// on a thread that holds one slot exclusively for the run (RunGuard). Per-CPU maps index values by
/// slot. The same slots carry epochs for reclamation: memory a map unlinks (a deleted hash element,
/// a replaced trie node) is reused only after every run that was active at unlink time has ended.
class RunDomain {
 public:
  /// `nr_cpus` = 0 means std::thread::hardware_concurrency() (at least 1).
  explicit RunDomain(unsigned nr_cpus = 0);
  RunDomain(const RunDomain&) = delete;
  RunDomain& operator=(const RunDomain&) = delete;

  unsigned nr_cpus() const { return nr_slots_; }

  /// The calling thread's slot while it holds a RunGuard on this domain; otherwise 0 (host threads).
  unsigned this_cpu() const { return detail::tl_run.domain == this ? detail::tl_run.cpu : 0; }
  /// True while the calling thread holds a RunGuard on this domain.
  bool in_run() const { return detail::tl_run.domain == this; }

  /// Called after unlinking memory: returns the epoch tag to retire it under.
  std::uint64_t retire_tag();
  /// True once no run that could have seen memory retired under `tag` is still active.
  bool grace_passed(std::uint64_t tag) const;
  /// The smallest tag not yet safe (all tags below it have passed their grace period).
  std::uint64_t safe_below() const;

 private:
  friend class RunGuard;
  // A slot's one word: 0 = free; otherwise claimed by a run that entered at this epoch (epochs start
  // at 1). Claiming and announcing the epoch are one CAS, the only atomic read-modify-write of a
  // run's entry (see claim_slot for why it is enough).
  struct alignas(64) Slot {
    mutable std::atomic<std::uint64_t> active_epoch{0};  // mutable: safe_below's confirming RMW
  };
  // Claims a free slot at the current epoch. Inline: a thread finds the slot it had last time free
  // with one CAS (every run's entry, issue #19); otherwise claim_other_slot looks further.
  // `hint`: the thread's ThreadRun::hint.
  unsigned claim_slot(unsigned hint) {
    const unsigned s = hint;
    if (s < nr_slots_) [[likely]] {
      std::uint64_t expected = 0;
      if (slots_[s].active_epoch.load(std::memory_order_relaxed) == 0 &&
          slots_[s].active_epoch.compare_exchange_strong(expected, epoch_.load(std::memory_order_acquire),
                                                         std::memory_order_acq_rel, std::memory_order_relaxed))
        return s;
    }
    return claim_other_slot();
  }
  unsigned claim_other_slot();
  void reannounce(unsigned cpu);           // quiescent state of a held slot: moves it to the current epoch
  bool epoch_moved(unsigned cpu) const;    // something was retired since `cpu` last announced
  void leave(unsigned cpu) {
    // Release: a reclaimer that reads 0 here (safe_below) sees every map read of the run before it.
    slots_[cpu].active_epoch.store(0, std::memory_order_release);
  }

  std::vector<Slot> slots_;
  unsigned nr_slots_;  // slots_.size(), kept: claim_slot's bounds test is one compare
  std::atomic<std::uint64_t> epoch_{1};
};

/// RAII: the calling thread runs on one CPU slot of `domain` until destruction. Nested guards on the
/// same thread and domain reuse the outer slot. If every slot is busy, the constructor waits
/// (yielding) for one: like a kernel CPU, a slot never runs two programs at once.
class RunGuard {
 public:
  // tl_run is named directly, never through a reference: GCC 12's UBSan null check on a reference to
  // a TLS object tests flags the address computation never set (a false "member access within null
  // pointer" in the sanitizer build).
  explicit RunGuard(RunDomain& domain) : domain_(domain) {
    saved_domain_ = detail::tl_run.domain;
    saved_cpu_ = detail::tl_run.cpu;
    if (saved_domain_ == &domain) {
      cpu_ = saved_cpu_;
      return;
    }
    outer_ = true;
    cpu_ = domain.claim_slot(detail::tl_run.hint);
    detail::tl_run.domain = &domain;
    detail::tl_run.cpu = cpu_;
  }
  ~RunGuard() {
    if (outer_) domain_.leave(cpu_);
    detail::tl_run.domain = saved_domain_;
    detail::tl_run.cpu = saved_cpu_;
  }
  RunGuard(const RunGuard&) = delete;
  RunGuard& operator=(const RunGuard&) = delete;
  unsigned cpu() const { return cpu_; }
  /// Between two runs under one guard (a repeated test run): declares that this thread holds no map
  /// memory from earlier runs, so memory retired since then may be reused. Keeps the slot.
  void quiescent_state();

 private:
  RunDomain& domain_;
  const RunDomain* saved_domain_;
  unsigned saved_cpu_;
  unsigned cpu_ = 0;
  bool outer_ = false;
};

}  // namespace bpfvm::maps
