// TimerQueue: bpf_timer state per map value, the kernel's semantics (kernel/bpf/helpers.c bpf_timer_*),
// fired by the embedder's calls to run_due().
#include "helpers/timer_queue.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "helpers/runtime.hpp"
#include "maps/run_domain.hpp"

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
  t->field = timer_field;
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
  disarm(t);  // re-arming moves it
  // Relative: saturating, so an hour-long or larger delay never wraps into the past.
  t.expiry_ns = flags & kTimerAbs ? nsecs : (nsecs > UINT64_MAX - now ? UINT64_MAX : now + nsecs);
  t.armed = true;
  t.armed_seq = next_seq_++;
  armed_[clock_index(t.clock)].emplace(t.expiry_key(), it->second);
  return 0;
}

int TimerQueue::cancel(const std::byte* timer_field) {
  std::lock_guard lock(mu_);
  const auto it = timers_.find(timer_field);
  if (it == timers_.end()) return -EINVAL;
  if (tl_running_timer == timer_field) return -EDEADLK;
  Timer& t = *it->second;
  const bool was_armed = t.armed;
  disarm(t);
  t.callback = {};  // as the kernel's cancel drops the program: start needs set_callback again
  t.host.reset();
  return was_armed ? 1 : 0;
}

std::size_t TimerQueue::clock_index(int clock) {
  switch (clock) {
    case CLOCK_REALTIME: return 0;
    case CLOCK_BOOTTIME: return 2;
    default: return 1;
  }
}

void TimerQueue::disarm(Timer& t) {
  if (!t.armed) return;
  armed_[clock_index(t.clock)].erase(t.expiry_key());
  t.armed = false;
}

std::shared_ptr<TimerQueue::Timer> TimerQueue::earliest_due(std::uint64_t before_seq,
                                                            std::array<ExpiryKey, kClocks>& from,
                                                            const Clocks& clocks) const {
  static constexpr int kClockOf[kClocks] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
  const std::shared_ptr<Timer>* best = nullptr;
  for (std::size_t c = 0; c < kClocks; ++c) {
    const auto& armed = armed_[c];
    auto it = armed.lower_bound(from[c]);
    // Armed after this run_due began (by a callback or another thread): not this call's. A timer
    // armed before it cannot appear before `from` later (re-arming gives a new, larger armed_seq).
    while (it != armed.end() && it->first.second >= before_seq) ++it;
    if (it == armed.end()) {
      from[c] = {UINT64_MAX, UINT64_MAX};
      continue;
    }
    from[c] = it->first;
    if (it->first.first > now_on(kClockOf[c], clocks)) continue;
    // Across clocks, earliest expiry value first (then arming order), as one queue would order them.
    if (!best || it->first < (*best)->expiry_key()) best = &it->second;
  }
  return best ? *best : nullptr;
}

Result<std::size_t> TimerQueue::run_due(const Clocks& clocks) {
  std::uint64_t before_seq = 0;
  {
    std::lock_guard lock(mu_);
    before_seq = next_seq_;
  }
  std::array<ExpiryKey, kClocks> from{};
  std::size_t fired = 0;
  while (true) {
    std::shared_ptr<Timer> due;
    std::shared_ptr<const TimerCallbackHost> host;
    maps::RunDomain* domain = nullptr;
    std::uint64_t seq = 0;
    {
      std::lock_guard lock(mu_);
      due = earliest_due(before_seq, from, clocks);
      if (!due) return fired;
      host = due->host.lock();
      if (!host) {  // the program that set the callback is gone: dropped at expiry
        disarm(*due);
        continue;
      }
      seq = due->armed_seq;
      domain = &due->map->domain();
    }
    // The callback's run starts here, before the second look: a delete on another thread that frees
    // the value after that look retires it at an epoch this guard holds back, so the value outlives
    // the callback (maps/run_domain.hpp). Entering under mu_ could wait for a CPU slot held by a run
    // that waits for mu_ (bpf_timer_start), hence the two looks. The domain is the map's object's,
    // which `host` (the program that set the callback, holding its object) keeps alive.
    maps::RunGuard guard(*domain);
    vm::KeptCallback callback;  // copied under the lock: set_callback may change the record meanwhile
    {
      std::lock_guard lock(mu_);
      const auto it = timers_.find(due->field);
      // Freed, cancelled or re-armed since the first look: choose again.
      if (it == timers_.end() || it->second != due || !due->armed || due->armed_seq != seq) continue;
      disarm(*due);  // as an hrtimer: not active while its callback runs
      callback = due->callback;
      host = due->host.lock();
    }
    if (!host) continue;  // the program that set the callback is gone
    const std::uint64_t args_words[5] = {reinterpret_cast<std::uintptr_t>(due->map),
                                         reinterpret_cast<std::uintptr_t>(due->key.data()),
                                         reinterpret_cast<std::uintptr_t>(due->value), 0, 0};
    const void* const outer = tl_running_timer;
    tl_running_timer = due->field;
    auto r = host->run_timer_callback(callback, std::span<const std::uint64_t, 5>(args_words), due->key);
    tl_running_timer = outer;
    ++fired;
    if (!r) return std::move(r).error();
  }
}

std::optional<std::uint64_t> TimerQueue::next_expiry() const {
  std::lock_guard lock(mu_);
  std::optional<std::uint64_t> first;
  for (const auto& armed : armed_)
    if (!armed.empty() && (!first || armed.begin()->first.first < *first)) first = armed.begin()->first.first;
  return first;
}

std::size_t TimerQueue::size() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

void TimerQueue::free_timer(const void* timer_field) {
  std::lock_guard lock(mu_);
  const auto it = timers_.find(timer_field);
  if (it == timers_.end()) return;
  disarm(*it->second);
  timers_.erase(it);  // a callback running it keeps its record (shared_ptr) until it returns
}

void TimerQueue::free_map_timers(const maps::Map& map) {
  std::lock_guard lock(mu_);
  std::erase_if(timers_, [&](const auto& kv) {
    if (kv.second->map != &map) return false;
    disarm(*kv.second);
    return true;
  });
  std::erase(maps_, &map);
}

}  // namespace bpfvm::helpers
