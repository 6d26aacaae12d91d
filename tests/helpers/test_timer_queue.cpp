// TimerQueue on its own, with a callback host that records what fires instead of running programs:
// run_due's order (earliest expiry first, ties in arming order, only timers armed before the call and
// due on their clock); what callbacks change meanwhile (re-arming themselves or others, cancelling or
// freeing other timers or their own); and callbacks against a delete on another thread (issue #15):
// the host is called inside a RunGuard on the map's domain entered before the queue's last look at
// the timer, so the value's grace period covers the callback. In the sanitizer build
// (-DBPFVM_SANITIZE=ON) reclaimed hash elements are poisoned, and a callback that writes to a value
// the delete already reclaimed is reported as a use after free; the test is also run under
// -DBPFVM_TSAN=ON. No timing: waits are bounded by counts.
#include <catch2/catch.hpp>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "helpers/runtime.hpp"
#include "helpers/timer_queue.hpp"
#include "maps/map.hpp"

namespace bpfvm::testing {
namespace {

constexpr std::uint64_t kAbs = 1;  // BPF_F_TIMER_ABS
constexpr std::int32_t kTimerOff = 8;
constexpr std::uint32_t kValueSize = 32;  // u64 count, struct bpf_timer, u64 spare

Result<std::uint64_t> no_call(const void*, vm::RunContext&, std::uint64_t, std::span<const std::uint64_t, 5>) {
  return std::uint64_t{0};
}
const vm::KeptCallback kCallback{.call = no_call};

std::unique_ptr<maps::Map> timer_map(maps::MapType type, std::uint32_t entries, std::shared_ptr<maps::RunDomain> domain) {
  maps::MapSpec spec;
  spec.type = type;
  spec.key_size = 4;
  spec.value_size = kValueSize;
  spec.max_entries = entries;
  spec.name = "timers";
  spec.timer_off = kTimerOff;
  auto m = maps::create_map(spec, std::move(domain));
  REQUIRE(m.has_value());
  return std::move(*m);
}

// A host whose "callback" records the key (u32) and runs `action` (may be empty).
class RecordingHost final : public helpers::TimerCallbackHost {
 public:
  Result<std::uint64_t> run_timer_callback(const vm::KeptCallback&, std::span<const std::uint64_t, 5>,
                                           std::span<const std::byte> key) const override {
    std::uint32_t k = 0;
    std::memcpy(&k, key.data(), sizeof k);
    fired.push_back(k);
    if (action) action(k);
    return std::uint64_t{0};
  }
  mutable std::vector<std::uint32_t> fired;
  std::function<void(std::uint32_t)> action;
};

struct ArrayTimers {
  std::uint64_t now = 1'000'000;
  helpers::Clocks clocks;
  std::shared_ptr<maps::RunDomain> domain = std::make_shared<maps::RunDomain>(2);
  std::unique_ptr<maps::Map> map;
  helpers::TimerQueue queue;
  std::shared_ptr<RecordingHost> host = std::make_shared<RecordingHost>();

  explicit ArrayTimers(std::uint32_t n) : map(timer_map(maps::MapType::Array, n, domain)) {
    clocks.monotonic_ns = clocks.boot_ns = clocks.realtime_ns = [this] { return now; };
    for (std::uint32_t k = 0; k < n; ++k) {
      REQUIRE(queue.init(*map, field(k), CLOCK_MONOTONIC) == 0);
      REQUIRE(queue.set_callback(field(k), kCallback, host.get()) == 0);
    }
  }
  ~ArrayTimers() { map->set_timer_owner(nullptr); }
  const std::byte* field(std::uint32_t k) { return static_cast<const std::byte*>(map->lookup(&k)) + kTimerOff; }
  int arm_at(std::uint32_t k, std::uint64_t expiry) { return queue.start(field(k), expiry, kAbs, clocks); }
};

}  // namespace

TEST_CASE("TimerQueue::run_due fires the due timers armed before it, earliest first, ties in arming order") {
  constexpr std::uint32_t kTimers = 300;
  ArrayTimers t(kTimers);
  std::mt19937 rng(15);
  std::vector<std::tuple<std::uint64_t, std::uint32_t, std::uint32_t>> due;  // (expiry, arming order, key)
  std::uint64_t first_later = UINT64_MAX;
  for (std::uint32_t i = 0; i < kTimers; ++i) {
    const std::uint32_t k = (i * 7) % kTimers;  // arming order differs from key order
    const std::uint64_t expiry = t.now - 40 + rng() % 60;  // many ties; a third expire after now
    REQUIRE(t.arm_at(k, expiry) == 0);
    if (expiry <= t.now) due.emplace_back(expiry, i, k);
    else first_later = std::min(first_later, expiry);
  }
  std::sort(due.begin(), due.end());
  std::vector<std::uint32_t> want;
  for (const auto& [expiry, order, k] : due) want.push_back(k);
  auto fired = t.queue.run_due(t.clocks);
  REQUIRE(fired.has_value());
  CHECK(*fired == want.size());
  CHECK(t.host->fired == want);
  CHECK(t.queue.next_expiry() == first_later);
  // Re-arming a fired timer earlier than every other moves it to the front.
  REQUIRE(t.arm_at(std::get<2>(due.back()), 5) == 0);
  CHECK(t.queue.next_expiry() == 5u);
  t.host->fired.clear();
  t.now = UINT64_MAX;
  fired = t.queue.run_due(t.clocks);
  REQUIRE(fired.has_value());
  CHECK(*fired == kTimers - want.size() + 1);
  REQUIRE(!t.host->fired.empty());
  CHECK(t.host->fired.front() == std::get<2>(due.back()));
  CHECK(!t.queue.next_expiry().has_value());
}

TEST_CASE("TimerQueue::run_due follows what callbacks change: re-arming, cancelling and freeing timers") {
  ArrayTimers t(8);
  // Keys 0..7 armed in key order at expiries 10..17: they fire in key order unless a callback intervenes.
  for (std::uint32_t k = 0; k < 8; ++k) REQUIRE(t.arm_at(k, 10 + k) == 0);
  int own_cancel = 0;
  t.host->action = [&](std::uint32_t k) {
    switch (k) {
      case 0: REQUIRE(t.arm_at(0, 0) == 0); break;  // itself, due at once: not again in this call
      case 1: CHECK(t.queue.cancel(t.field(3)) == 1); break;  // 3 does not fire
      case 2: t.queue.free_timer(t.field(4)); break;          // 4's value deleted: does not fire
      case 5:
        own_cancel = t.queue.cancel(t.field(5));  // its own: -EDEADLK
        t.queue.free_timer(t.field(5));           // its own value deleted while it runs
        break;
      case 6: REQUIRE(t.arm_at(1, 0) == 0); break;  // one that fired already: not again in this call
      case 7: REQUIRE(t.arm_at(2, 100) == 0); break;  // due, after the ones fired so far: not in this call
      default: break;
    }
  };
  auto fired = t.queue.run_due(t.clocks);
  REQUIRE(fired.has_value());
  CHECK(t.host->fired == std::vector<std::uint32_t>{0, 1, 2, 5, 6, 7});
  CHECK(*fired == 6);
  CHECK(own_cancel == -EDEADLK);
  CHECK(t.queue.size() == 6);  // 4 and 5 freed
  CHECK(t.queue.next_expiry() == 0u);
  t.host->fired.clear();
  t.host->action = nullptr;
  fired = t.queue.run_due(t.clocks);
  REQUIRE(fired.has_value());
  CHECK(t.host->fired == std::vector<std::uint32_t>{0, 1, 2});  // 0 and 1 re-armed at 0: in arming order
  CHECK(!t.queue.next_expiry().has_value());
}

namespace {

// The callback host of the race test: before it enters its run (as Program::Impl::run_timer_callback
// does, with its own RunGuard), it lets the deleting thread delete every element and reuse deleted
// ones; then it writes to the value. The queue must have made that write safe already.
class DeleteWindowHost final : public helpers::TimerCallbackHost {
 public:
  explicit DeleteWindowHost(maps::RunDomain& domain) : domain_(domain) {}
  Result<std::uint64_t> run_timer_callback(const vm::KeptCallback&, std::span<const std::uint64_t, 5> args,
                                           std::span<const std::byte>) const override {
    if (!domain_.in_run()) outside_run.fetch_add(1, std::memory_order_relaxed);
    keys_back.store(false, std::memory_order_relaxed);  // the deleting thread puts them back
    in_callback.store(true, std::memory_order_release);
    for (std::uint64_t spins = 0; !deleted.load(std::memory_order_acquire) && spins < kMaxSpins; ++spins)
      std::this_thread::yield();
    {
      maps::RunGuard guard(domain_);
      auto* value = reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(args[2]));
      std::uint64_t count = 0;
      std::memcpy(&count, value, sizeof count);
      ++count;
      std::memcpy(value, &count, sizeof count);
    }
    deleted.store(false, std::memory_order_relaxed);
    in_callback.store(false, std::memory_order_relaxed);
    callback_done.store(true, std::memory_order_release);
    return std::uint64_t{0};
  }
  static constexpr std::uint64_t kMaxSpins = std::uint64_t{1} << 24;
  mutable std::atomic<bool> in_callback{false}, deleted{false}, callback_done{false}, keys_back{true};
  mutable std::atomic<int> outside_run{0};

 private:
  maps::RunDomain& domain_;
};

}  // namespace

TEST_CASE("TimerQueue: a callback's value stays valid while another thread deletes its element") {
  constexpr std::uint32_t kKeys = 8, kSpareKey = 100;
  constexpr int kRounds = 200;
  auto domain = std::make_shared<maps::RunDomain>(2);
  auto map = timer_map(maps::MapType::Hash, 64, domain);
  helpers::TimerQueue queue;
  helpers::Clocks clocks;
  clocks.monotonic_ns = clocks.boot_ns = clocks.realtime_ns = [] { return std::uint64_t{1'000'000}; };
  auto host = std::make_shared<DeleteWindowHost>(*domain);
  const std::vector<std::byte> zero(kValueSize);
  for (std::uint32_t k = 0; k < kKeys; ++k) REQUIRE(map->host_update(&k, zero.data(), 0) == 0);

  std::atomic<bool> firing_done{false};
  int callbacks = 0, errors = 0;
  std::thread firing([&] {
    for (int round = 0; round < kRounds; ++round) {
      for (std::uint64_t spins = 0; !host->keys_back.load(std::memory_order_acquire) && spins < DeleteWindowHost::kMaxSpins;
           ++spins)
        std::this_thread::yield();
      {
        // As a program arming every element's timer: lookups inside a run.
        maps::RunGuard guard(*domain);
        for (std::uint32_t k = 0; k < kKeys; ++k) {
          auto* value = static_cast<const std::byte*>(map->lookup(&k));
          if (value == nullptr) continue;
          (void)queue.init(*map, value + kTimerOff, CLOCK_MONOTONIC);
          (void)queue.set_callback(value + kTimerOff, kCallback, host.get());
          (void)queue.start(value + kTimerOff, 0, 0, clocks);
        }
      }
      auto n = queue.run_due(clocks);
      if (!n) ++errors;
      else callbacks += static_cast<int>(*n);
    }
    firing_done.store(true, std::memory_order_release);
  });
  // Deleting thread: once a callback is under way, delete every element, then insert and delete a
  // spare key: its allocation reclaims the deleted elements whose grace period passed (poisoned in the
  // sanitizer build) and takes the newest of them, so the first-deleted stays reclaimed. Put the keys
  // back only after the callback wrote.
  int windows = 0, stalls = 0;
  while (!firing_done.load(std::memory_order_acquire)) {
    if (!host->in_callback.load(std::memory_order_acquire)) {
      std::this_thread::yield();
      continue;
    }
    ++windows;
    for (std::uint32_t k = 0; k < kKeys; ++k) (void)map->host_erase(&k);
    REQUIRE(map->host_update(&kSpareKey, zero.data(), 0) == 0);
    REQUIRE(map->host_erase(&kSpareKey) == 0);
    host->deleted.store(true, std::memory_order_release);
    std::uint64_t spins = 0;
    for (; !host->callback_done.load(std::memory_order_acquire) && spins < DeleteWindowHost::kMaxSpins; ++spins)
      std::this_thread::yield();
    if (spins == DeleteWindowHost::kMaxSpins) ++stalls;
    host->callback_done.store(false, std::memory_order_relaxed);
    for (std::uint32_t k = 0; k < kKeys; ++k) (void)map->host_update(&k, zero.data(), 0);
    host->keys_back.store(true, std::memory_order_release);
  }
  firing.join();
  map->set_timer_owner(nullptr);
  INFO("callbacks " << callbacks << ", delete windows " << windows);
  CHECK(errors == 0);
  CHECK(stalls == 0);
  CHECK(callbacks == kRounds);  // one per round: the deletes free the other timers
  CHECK(windows == callbacks);
  // The queue called the host inside a run of the map's domain (the guard that keeps the value).
  CHECK(host->outside_run.load() == 0);
}

}  // namespace bpfvm::testing
