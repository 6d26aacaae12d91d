// TimerQueue: one VM's bpf_timers (the kernel's struct bpf_hrtimer per map value), armed by the timer
// helpers and fired when the embedder asks (Vm::run_due_timers), on the clock the VM's helpers read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "bpfvm/result.hpp"
#include "maps/map.hpp"
#include "maps/timer_field.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::helpers {

struct Clocks;

/// Runs a timer's callback later in the setting of the program that set it (api/: a CPU slot of its
/// maps' RunDomain, its checked mode, owners and budget). A timer holds it weakly: a callback whose
/// program is gone is dropped when it expires.
class TimerCallbackHost : public std::enable_shared_from_this<TimerCallbackHost> {
 public:
  virtual ~TimerCallbackHost() = default;
  /// callback(map, key, value) as a run of its own; `key` stays valid for the call. Returns r0.
  virtual Result<std::uint64_t> run_timer_callback(const vm::KeptCallback& callback,
                                                   std::span<const std::uint64_t, 5> args,
                                                   std::span<const std::byte> key) const = 0;
};

/// Kernel errnos as kernel/bpf/helpers.c gives them. Thread-safe; callbacks run without its lock, inside
/// a RunGuard on their map's domain entered before the queue last looked at the timer, so a value a
/// concurrent delete frees stays valid until the callback returns (its grace period includes the run).
class TimerQueue final : public maps::TimerFieldOwner {
 public:
  TimerQueue() = default;
  ~TimerQueue() override;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // ---- the helpers ----------------------------------------------------------------------------
  /// bpf_timer_init: flags is the clock (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME; else
  /// -EINVAL); -EBUSY when the timer is initialised already.
  int init(maps::Map& map, const std::byte* timer_field, std::uint64_t flags);
  /// bpf_timer_set_callback: -EINVAL before init.
  int set_callback(const std::byte* timer_field, const vm::KeptCallback& callback, const TimerCallbackHost* host);
  /// bpf_timer_start: expires nsecs from now (BPF_F_TIMER_ABS: at nsecs on the timer's clock);
  /// BPF_F_TIMER_CPU_PIN is accepted (callbacks run on the thread that fires them). -EINVAL for other
  /// flags, before init or without a callback.
  int start(const std::byte* timer_field, std::uint64_t nsecs, std::uint64_t flags, const Clocks& clocks);
  /// bpf_timer_cancel: 1 when the timer was armed, else 0; the callback is dropped (set it again
  /// before the next start). -EINVAL before init, -EDEADLK from the timer's own callback.
  int cancel(const std::byte* timer_field);

  // ---- the embedder ---------------------------------------------------------------------------
  /// Fires every timer armed before this call whose expiry is at or before its clock's now, earliest
  /// first (ties in arming order); a timer its own callback re-arms fires again at the next call.
  /// Returns how many callbacks ran; the first failing callback stops the call with its error.
  /// O(log n) per fired timer (armed timers are ordered by clock, expiry and arming order).
  Result<std::size_t> run_due(const Clocks& clocks);
  /// The earliest expiry among armed timers (ns on its clock), or nullopt.
  std::optional<std::uint64_t> next_expiry() const;
  /// Timers initialised and not freed (armed or not).
  std::size_t size() const;

  // ---- maps::TimerFieldOwner ------------------------------------------------------------------
  void free_timer(const void* timer_field) override;
  void free_map_timers(const maps::Map& map) override;

 private:
  // Armed timers sort by (expiry_ns, armed_seq): earliest first, ties in arming order.
  using ExpiryKey = std::pair<std::uint64_t, std::uint64_t>;
  static constexpr std::size_t kClocks = 3;  // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME
  struct Timer {
    const void* field = nullptr;           // the struct bpf_timer's address (key of timers_)
    const maps::Map* map = nullptr;
    std::vector<std::byte> key;            // the element's key, passed to the callback
    const std::byte* value = nullptr;      // the value holding the timer
    int clock = 0;                         // CLOCK_MONOTONIC / REALTIME / BOOTTIME
    vm::KeptCallback callback;             // callback.call == nullptr: none set
    std::weak_ptr<const TimerCallbackHost> host;
    bool armed = false;                    // armed <=> in armed_[clock] under expiry_key()
    std::uint64_t expiry_ns = 0;
    std::uint64_t armed_seq = 0;           // arming order: ties and "armed before this run_due"
    ExpiryKey expiry_key() const { return {expiry_ns, armed_seq}; }
  };
  static std::size_t clock_index(int clock);
  // mu_ held. Takes `t` out of armed_ (no-op when not armed).
  void disarm(Timer& t);
  // mu_ held. The earliest timer armed before `before_seq` that is due on its clock, or null. `from`
  // (per clock) is where the previous call of this run_due stopped: everything before it was armed
  // before `before_seq` and fired, or armed later, so each re-armed timer is passed over once.
  std::shared_ptr<Timer> earliest_due(std::uint64_t before_seq, std::array<ExpiryKey, kClocks>& from,
                                      const Clocks& clocks) const;

  mutable std::mutex mu_;
  std::map<const void*, std::shared_ptr<Timer>> timers_;  // by timer field address
  std::array<std::map<ExpiryKey, std::shared_ptr<Timer>>, kClocks> armed_;  // armed timers, per clock
  std::vector<maps::Map*> maps_;                          // maps whose owner is this queue
  std::uint64_t next_seq_ = 1;
};

}  // namespace bpfvm::helpers
