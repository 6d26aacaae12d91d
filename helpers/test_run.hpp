// test_run: the equivalent of BPF_PROG_TEST_RUN for XDP and __sk_buff programs, and bpfvm's own run of
// sk_skb and sk_msg programs (which the kernel cannot test-run).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "bpfvm/result.hpp"
#include "helpers/contexts.hpp"
#include "helpers/runtime.hpp"
#include "vm/interpreter.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::helpers {

struct TestRunOptions {
  ProgType type = ProgType::Xdp;  // Xdp, an __sk_buff type (SocketFilter, SchedCls, ..., SkSkb) or SkMsg
  std::span<const std::uint8_t> data_in;       // copied into the frame before the first run
  std::span<const std::uint8_t> ctx_in;        // struct xdp_md / __sk_buff / sk_msg_md (may be short)
  std::optional<std::uint32_t> data_size_out;   // output buffer size; smaller output -> -ENOSPC
  std::uint32_t repeat = 1;                     // 0 counts as 1
  bool checked = false;                         // checked mode for the engine and the helpers
  bool measure_time = true;                     // false: duration_ns stays 0 (no clock read per call)
  std::uint32_t cpu = 0;                        // bpf_get_smp_processor_id
  std::uint32_t expected_attach_type = 0;       // BPF_PROG_LOAD's: XDP for a devmap/cpumap is refused (EINVAL)
  /// Called once on the run's HelperRun before the first repetition: where an embedder installs its
  /// pointer. (Engines install their own hooks — callbacks, tail calls — in RunContext.)
  std::function<void(HelperRun&, vm::RunContext&)> setup;
  /// The RunContext to run in, fresh (a caller that keeps one per thread keeps its vectors' capacity);
  /// null: a new one.
  vm::RunContext* context = nullptr;
};

struct TestRunResult {
  int err = 0;                        // 0, or -ENOSPC when data_out was cut to data_size_out
  std::uint32_t retval = 0;           // low 32 bits of r0, as the kernel reports it
  std::uint64_t r0 = 0;
  std::vector<std::uint8_t> data_out; // XDP: from data_meta to data_end; skb: from the MAC header
  std::uint32_t data_size_out = 0;    // full output size (also when cut)
  std::vector<std::uint8_t> ctx_out;  // xdp_md (data/data_end relative to data_meta) or __sk_buff
  std::uint32_t duration_ns = 0;      // mean wall time per repetition (when TestRunOptions::measure_time)
  std::uint32_t cpu_duration_ns = 0;  // mean thread CPU time per repetition (leaves out preemption; idem)
  RedirectRecord redirect;            // what bpf_redirect / bpf_redirect_map recorded last
  std::optional<std::uint32_t> msg_apply_bytes;  // sk_msg: what bpf_msg_apply_bytes set last, if called
  std::optional<std::uint32_t> msg_cork_bytes;   // sk_msg: what bpf_msg_cork_bytes set last, if called
  std::optional<std::uint64_t> selected_socket;  // sk_reuseport: the cookie bpf_sk_select_reuseport selected last
};

/// Runs the program `runs` times back to back with r1 = args[0] on `ctx` (vm::ExecOptions::runs) and
/// returns the last run's result.
using ProgramRunner = std::function<Result<vm::ExecResult>(vm::RunContext& ctx, std::span<const std::uint64_t> args,
                                                           std::uint32_t runs)>;

/// Runs the program `repeat` times on one context and one copy of data_in, as the kernel does (a
/// repetition sees what the previous one left in the packet and the writable ctx fields), and
/// reports the last run; duration_ns covers the runs only, not the setup. The program must already be rewritten for `type` (rewrite_ctx_access()).
/// Kernel input checks become Errc::InvalidArgument with the errno name leading the reason
/// ("EINVAL: XDP needs at least 14 bytes of data_in"); an engine error ends the test run.
Result<TestRunResult> test_run(const ProgramRunner& runner, const TestRunOptions& options);

/// The same into `out`, whose buffers are reused: with options.context set, a warm caller's test run
/// allocates nothing (the frame lives on the stack).
Result<void> test_run(const ProgramRunner& runner, const TestRunOptions& options, TestRunResult& out);

/// The same with the interpreter (ExecOptions::checked = options.checked).
Result<TestRunResult> test_run(const vm::Interpreter& program, const TestRunOptions& options);

}  // namespace bpfvm::helpers
