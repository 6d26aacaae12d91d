// The clock of a repeated run: wall time and this thread's CPU time, read together around the runs.
#pragma once

#include <time.h>

#include <cstdint>

namespace bpfvm::vm {

// Wall time counts whatever else the machine did meanwhile: on a shared machine a preempted run
// inflates it at random. The kernel's test-run timer stops while the task is rescheduled
// (bpf_test_timer_continue), so CLOCK_THREAD_CPUTIME_ID — time this thread spent on a CPU — is
// the figure to set beside the kernel's; wall time stays for what a caller waits.
class RunTimer {
 public:
  RunTimer() : wall_start_(read(CLOCK_MONOTONIC)), cpu_start_(read(CLOCK_THREAD_CPUTIME_ID)) {}

  /// Nanoseconds since construction: wall clock, and this thread's CPU time.
  std::uint64_t wall_ns() const { return read(CLOCK_MONOTONIC) - wall_start_; }
  std::uint64_t cpu_ns() const { return read(CLOCK_THREAD_CPUTIME_ID) - cpu_start_; }

 private:
  static std::uint64_t read(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
  }
  std::uint64_t wall_start_, cpu_start_;
};

}  // namespace bpfvm::vm
