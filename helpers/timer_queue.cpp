// TimerQueue: bpf_timer state per map value, the kernel's semantics (kernel/bpf/helpers.c bpf_timer_*),
// fired by the embedder's calls to run_due().
#include "helpers/timer_queue.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "helpers/runtime.hpp"

namespace bpfvm::helpers {

namespace {

constexpr std::uint64_t kTimerAbs = 1u << 0, kTimerCpuPin = 1u << 1;  // BPF_F_TIMER_ABS, BPF_F_TIMER_CPU_PIN
constexpr std::uint64_t kMaxClocks = 16;                                // MAX_CLOCKS

// The timer whose callback this thread is running (the kernel's per-CPU hrtimer_running).
thread_local const void* tl_running_timer = nullptr;

std::uint64_t now_on(int clock, const Clocks& clocks) {
  switch (clock) {
    case CLOCK_REALTIME: return clocks.realtime_ns();
    case CLOCK_BOOTTIME: return clocks.boot_ns();
    default: return clocks.monotonic_ns();
  }
}

}  // namespace

HelperRuntime::HelperRuntime() : timers(std::make_shared<TimerQueue>()) {}

TimerQueue::~TimerQueue() {
  // Maps normally die first (objects hold the VM); any left must not call back into a dead queue.
  for (auto* m : maps_) m->set_timer_owner(nullptr);
}

int TimerQueue::init(maps::Map& map, const std::byte* timer_field, std::uint64_t flags) {
  const auto clock = static_cast<int>(flags & (kMaxClocks - 1));
  if (flags >= kMaxClocks || (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME))
    return -EINVAL;
  auto t = std::make_shared<Timer>();
  t->map = &map;
  t->value = timer_field - map.spec().timer_off;
  t->clock = clock;
  t->key.resize(map.spec().key_size);
  if (!map.key_of_value(t->value, t->key.data())) return -EINVAL;  // the verifier makes this unreachable
  std::lock_guard lock(mu_);
  if (timers_.contains(timer_field)) return -EBUSY;
  if (std::find(maps_.begin(), maps_.end(), &map) == maps_.end()) {
    maps_.push_back(&map);
    map.set_timer_owner(this);
  }
  timers_.emplace(timer_field, std::move(t));
  return 0;
}

int TimerQueue::set_callback(const std::byte* timer_field, const vm::KeptCallback& callback,
                             const TimerCallbackHost* host) {
  std::lock_guard lock(mu_);
  const auto it = timers_.find(timer_field);
  if (it == timers_.end()) return -EINVAL;
  it->second->callback = callback;
  it->second->host = host->weak_from_this();
  return 0;
}

int TimerQueue::start(const std::byte* timer_field, std::uint64_t nsecs, std::uint64_t flags, const Clocks& clocks) {
  if (flags & ~(kTimerAbs | kTimerCpuPin)) return -EINVAL;
  std::lock_guard lock(mu_);
  const auto it = timers_.find(timer_field);
  if (it == timers_.end() || it->second->callback.call == nullptr) return -EINVAL;
  Timer& t = *it->second;
  const std::uint64_t now = now_on(t.clock, clocks);
  // Relative: saturating, so an hour-long or larger delay never wraps into the past.
  t.expiry_ns = flags & kTimerAbs ? nsecs : (nsecs > UINT64_MAX - now ? UINT64_MAX : now + nsecs);
  t.armed = true;
  t.armed_seq = next_seq_++;
  return 0;
}

int TimerQueue::cancel(const std::byte* timer_field) {
  std::lock_guard lock(mu_);
  const auto it = timers_.find(timer_field);
  if (it == timers_.end()) return -EINVAL;
  if (tl_running_timer == timer_field) return -EDEADLK;
  Timer& t = *it->second;
  const bool was_armed = t.armed;
  t.armed = false;
  t.callback = {};  // as the kernel's cancel drops the program: start needs set_callback again
  t.host.reset();
  return was_armed ? 1 : 0;
}

Result<std::size_t> TimerQueue::run_due(const Clocks& clocks) {
  std::uint64_t before_seq = 0;
  {
    std::lock_guard lock(mu_);
    before_seq = next_seq_;
  }
  std::size_t fired = 0;
  while (true) {
    std::shared_ptr<Timer> due;
    const void* field = nullptr;
    vm::KeptCallback callback;  // copied under the lock: set_callback may change the record meanwhile
    std::shared_ptr<const TimerCallbackHost> host;
    {
      std::lock_guard lock(mu_);
      for (const auto& [f, t] : timers_) {
        if (!t->armed || t->armed_seq >= before_seq || t->expiry_ns > now_on(t->clock, clocks)) continue;
        if (!due || t->expiry_ns < due->expiry_ns || (t->expiry_ns == due->expiry_ns && t->armed_seq < due->armed_seq)) {
          due = t;
          field = f;
        }
      }
      if (!due) return fired;
      due->armed = false;  // as an hrtimer: not active while its callback runs
      callback = due->callback;
      host = due->host.lock();
    }
    if (!host) continue;  // the program that set the callback is gone
    const std::uint64_t args_words[5] = {reinterpret_cast<std::uintptr_t>(due->map),
                                         reinterpret_cast<std::uintptr_t>(due->key.data()),
                                         reinterpret_cast<std::uintptr_t>(due->value), 0, 0};
    const void* const outer = tl_running_timer;
    tl_running_timer = field;
    auto r = host->run_timer_callback(callback, std::span<const std::uint64_t, 5>(args_words), due->key);
    tl_running_timer = outer;
    ++fired;
    if (!r) return std::move(r).error();
  }
}

std::optional<std::uint64_t> TimerQueue::next_expiry() const {
  std::lock_guard lock(mu_);
  std::optional<std::uint64_t> first;
  for (const auto& [f, t] : timers_)
    if (t->armed && (!first || t->expiry_ns < *first)) first = t->expiry_ns;
  return first;
}

std::size_t TimerQueue::size() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

void TimerQueue::free_timer(const void* timer_field) {
  std::lock_guard lock(mu_);
  timers_.erase(timer_field);  // a callback running it keeps its record (shared_ptr) until it returns
}

void TimerQueue::free_map_timers(const maps::Map& map) {
  std::lock_guard lock(mu_);
  std::erase_if(timers_, [&](const auto& kv) { return kv.second->map == &map; });
  std::erase(maps_, &map);
}

}  // namespace bpfvm::helpers
