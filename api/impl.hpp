// The state behind the public API's handles (include/bpfvm/bpfvm.hpp). Internal to api/.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/kernel_types.hpp"
#include "bpfvm/bpfvm.hpp"
#include "helpers/contexts.hpp"
#include "helpers/runtime.hpp"
#include "helpers/timer_queue.hpp"
#include "jit/jit_program.hpp"
#include "verifier/verifier.hpp"
#include "loader/object.hpp"
#include "maps/map_table.hpp"
#include "maps/run_domain.hpp"
#include "vm/helper_registry.hpp"
#include "vm/interpreter.hpp"
#include "vm/tail_call_target.hpp"

namespace bpfvm {

struct Vm::Impl {
  VmOptions options;
  vm::HelperRegistry helpers;
  helpers::HelperRuntime runtime;
};

/// One program of an object before it is loaded: code, type and debug info.
struct ProgramSource {
  std::string name;
  std::string section;
  ProgramType type;
  bool autoload = true;
  vm::Program program;
  const loader::ProgramSpec* spec = nullptr;  // ELF programs: the loader's record (line info...)
};

struct Object::Impl {
  std::shared_ptr<const Vm::Impl> vm;
  std::optional<loader::Object> elf;      // ELF objects only
  std::vector<ProgramSource> programs;
  maps::MapTable maps;
  std::vector<maps::Map*> map_list;       // index = loader map index (lddw MapIdx imm); nullptr = not created
  std::vector<std::string> map_names;
  /// What each map is (or, verify_only, would be) created as, by loader map index; nullptr = not
  /// created. Empty when the object was opened without its maps.
  std::vector<std::shared_ptr<const maps::MapSpec>> map_defs;
  /// By loader map index: the value a frozen BPF_F_RDONLY_PROG array (.rodata, .kconfig) holds for
  /// good, which the verifier reads loads at constant offsets from (MapInfo::frozen_value); else null.
  std::vector<std::shared_ptr<const std::vector<std::uint8_t>>> frozen_values;
  /// LoadOptions::verify_only: map_defs checked, nothing allocated; loaded programs do not run.
  bool verify_only = false;

  // Programs prepared as tail-call targets, by program index: prog_array slots point at `slot`,
  // which names the target prepared for each engine a loaded caller uses; the shared_ptrs own them.
  // Engines replaced later (a coverage build) stay in `retired`: runs may still be inside them.
  struct TailTarget {
    vm::TailCallTarget slot;
    std::shared_ptr<const vm::Interpreter> interpreter;
    std::shared_ptr<const jit::JitProgram> jit;
    std::vector<std::shared_ptr<const void>> retired;
    /// Points the slot at `program`'s engine (keeping any engine it replaces alive); a program run()
    /// refuses (Program::Impl::run_refusal) is not adopted.
    void adopt(const Program::Impl& program);
    /// True when the slot has the engine (and coverage build) `options` ask for.
    bool ready_for(const ProgramOptions& options) const;
  };
  mutable std::mutex tail_targets_mutex;
  mutable std::map<std::size_t, TailTarget> tail_targets;

  /// The kernel's types (kernel object pointers, tracing contexts): the target BTF the object was
  /// opened with, else /sys/kernel/btf/vmlinux read on first use, as libbpf reads it for tp_btf;
  /// null when there is neither.
  const KernelBtfTypes* kernel_types() const;
  std::shared_ptr<const loader::CoreTarget> target_btf;  // LoadOptions::target_btf as CO-RE parsed it
  std::vector<std::uint8_t> target_btf_bytes;  // LoadOptions::target_btf CO-RE did not need: kernel_types() parses it
  mutable std::mutex kernel_types_mutex;
  mutable std::shared_ptr<const KernelBtfTypes> kernel_types_;
  mutable bool kernel_types_read_ = false;

  explicit Impl(unsigned nr_cpus) : maps(nr_cpus) {}
  static Object make(std::shared_ptr<Impl> impl) { return Object(std::move(impl)); }
  /// Creates the loader's maps in order (table index = lddw MapIdx imm) with their initial contents,
  /// after checking that together they need at most `max_bytes` (0 = no cap).
  /// Map-in-maps without a template (LoadOptions::inner_map_templates) stay nullptr in map_list.
  /// `allocate` false (LoadOptions::verify_only): fills map_defs and checks each as creating it would,
  /// allocating nothing (no cap applies).
  Result<void> create_maps(std::uint64_t max_bytes, const std::map<std::string, std::string, std::less<>>& inner_templates,
                           bool allocate = true);
  const ProgramSource* find(std::string_view name) const;
  std::size_t index_of(const ProgramSource* source) const { return static_cast<std::size_t>(source - programs.data()); }
};

struct Program::Impl final : helpers::TimerCallbackHost {
  std::shared_ptr<const Object::Impl> object;
  /// Unique per prepared program in the process (never reused, unlike the address): what a RunState
  /// records as the program it is set up for.
  std::uint64_t id = 0;
  std::string name;
  ProgramType type;
  ProgramOptions options;
  std::uint32_t ctx_bytes = 0;  // the verifier's context bound; run() zero-pads a shorter context to it
  bool ctx_size_at_run = false;  // the context is the caller's bytes (syscall), not padded to ctx_bytes
  std::uint32_t min_ctx_bytes = 0;  // ctx_size_at_run: the fewest bytes a run must give (kernel max_ctx_offset)
  std::size_t run_ctx_bytes = 0;  // ctx_bytes, plus the struct bpf_sock placed after it (see ctx_pointer_fields)
  bool ctx_writable = false;    // the type has context fields a program may store to (cgroup_sock's mark)
  bool plain_input = false;     // ProgramType::Entry::PlainMemory: r1 = the input, r2 = its length
  bool input_writable = false;  // the run's input/ctx region is writable (plain, ctx_writable, syscall, type 0)
  /// Pointer fields of a context run on the caller's bytes (bpf_sock_addr.sk, bpf_sock_ops.sk and
  /// skb_data/skb_data_end): run() sets them, whatever the caller's bytes there say (see run()).
  std::vector<std::pair<std::uint32_t, verifier::CtxFieldKind>> ctx_pointer_fields;
  std::optional<helpers::ProgType> packet_type;  // packet_prog_type(type), once: run() goes through test_run
  /// Non-empty: why run() refuses this program (a tracing argument is a kernel object, which a
  /// userspace run has none of; a type whose packet pointers only the kernel's skb test run serves);
  /// verification judged it all the same.
  std::string run_refusal;
  VerifierReport report;
  std::vector<const vm::MemoryOwner*> owners;  // the object's maps, for checked runs (fixed after open)
  vm::Program program;  // after ctx-access rewriting: what the engine runs
  // The engine; shared with Object::Impl::tail_targets when a prog_array points here.
  std::shared_ptr<const vm::Interpreter> interpreter;
  std::shared_ptr<const jit::JitProgram> jit;

  /// `runs` back-to-back runs on the engine (vm::ExecOptions::runs); the result is the last run's.
  /// Inline: it is on every run's path.
  Result<vm::ExecResult> execute(vm::RunContext& ctx, std::span<const std::uint64_t> args,
                                 std::uint32_t* edge_counters = nullptr, std::uint32_t runs = 1) const {
    const vm::ExecOptions exec{.budget_insns = options.budget_insns, .checked = options.checked,
                               .edge_counters = edge_counters, .runs = runs};
    if (interpreter) return interpreter->run(ctx, args, exec);
    return jit->run(ctx, args, exec);
  }
  /// The same under a RunGuard held for all of them, announcing a quiescent state between chunks
  /// of runs so map memory retired meanwhile can be reclaimed.
  Result<vm::ExecResult> execute_repeated(maps::RunGuard& guard, vm::RunContext& ctx,
                                          std::span<const std::uint64_t> args, std::uint32_t* edge_counters,
                                          std::uint32_t runs) const;
  /// A bpf_timer callback this program set, as a run of its own (Vm::run_due_timers).
  Result<std::uint64_t> run_timer_callback(const vm::KeptCallback& callback, std::span<const std::uint64_t, 5> args,
                                           std::span<const std::byte> key) const override;
};

/// The per-run state besides the input: the RunContext and helper state of plain and context runs,
/// kept set up between runs of one program on one buffer so the next such run only checks that
/// (Program::run keeps one per thread, a Runner its own). Used by one run at a time; it does not
/// move (ctx.host points at helper_run).
struct RunState {
  vm::RunContext ctx;
  helpers::HelperRun helper_run;
  /// What ctx is set up for: the program (Program::Impl::id, 0 = nothing), the input buffer and
  /// checked mode. A failed run, a packet run and a nested run's use leave it at 0.
  std::uint64_t prepared_program = 0;
  std::uintptr_t prepared_base = 0;
  std::size_t prepared_size = 0;
  bool prepared_checked = false;
  /// A run is using it (a Runner refuses to be re-entered from a helper of its own run).
  bool in_use = false;

  RunState() = default;
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;
  /// A fresh RunContext's state, field by field (the vectors keep their capacity); nothing prepared.
  void reset();
  /// What a run of a prepared state starts from: no redirect, an unseeded prandom, the host's pointer.
  void begin_run(void* host_data) {
    helper_run.redirect = {};
    helper_run.prandom_state = 0;
    helper_run.embedder = host_data;
    helper_run.map_sockets.clear();
    helper_run.cgroup_retval = 0;
    helper_run.cgroup_retval_field = nullptr;
    helper_run.sysctl = nullptr;
  }
};

/// RunOutput's per-run results before a run: r0, retval, counts, timings, redirect.
inline void clear_results(RunOutput& out) {
  out.r0 = 0;
  out.retval = 0;
  out.insns_executed = 0;
  out.ns_per_run = 0;
  out.cpu_ns_per_run = 0;
  out.redirect_ifindex.reset();
  out.redirect_map.reset();
  out.msg_apply_bytes.reset();
  out.msg_cork_bytes.reset();
  out.cgroup_retval.reset();
  out.sysctl_new_value.reset();
}
/// Where bpf_redirect / bpf_redirect_map sent the packet, as RunOutput shows it (program.cpp).
void record_redirect(const helpers::RedirectRecord& r, RunOutput& out);
/// A successful plain or context run's results into `out` (after clear_results).
inline void record_results(std::uint64_t r0, std::uint64_t insns_executed, const helpers::RedirectRecord& redirect,
                           RunOutput& out) {
  out.r0 = r0;
  out.retval = static_cast<std::uint32_t>(r0);
  out.insns_executed = insns_executed;
  if (redirect.set) [[unlikely]] record_redirect(redirect, out);
}

/// One run (input.repeat of them) of `program` in `state`, as Program::run(input, out) documents.
Result<void> run_program(const Program::Impl& program, RunState& state, const RunInput& input, RunOutput& out);

/// Verifies and prepares one program of `object` (program.cpp).
Result<std::shared_ptr<Program::Impl>> prepare_program(const std::shared_ptr<const Object::Impl>& object,
                                                       const ProgramSource& source, const ProgramOptions& options);

}  // namespace bpfvm
