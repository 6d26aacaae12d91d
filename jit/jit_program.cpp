// JitProgram: prepares a program like the interpreter does (helpers, pseudo loads), builds native
// variants on demand, and runs them with the interpreter's contract.
#include "jit/jit_program.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <random>

#include "jit/debug_registration.hpp"
#include "jit/exec_memory.hpp"
#include "jit/native_run.hpp"
#include "jit/runtime.hpp"
#include "vm/exec_errors.hpp"
#include "vm/kfunc_call.hpp"
#include "jit/opt/lower.hpp"
#include "jit/opt/pipeline.hpp"
#if defined(__aarch64__)
#include "jit/arm64/emitter.hpp"
#include "jit/arm64/opt_emitter.hpp"
#else
#include "jit/x86_64/emitter.hpp"
#include "jit/x86_64/opt_emitter.hpp"
#endif

namespace bpfvm::jit {

// The backend of the host architecture; both expose compile(const CompileRequest&) and
// compile_optimized(std::span<opt::Function>, const CompileRequest&).
#if defined(__aarch64__)
namespace backend = arm64;
constexpr const char* kArch = "arm64";
#else
namespace backend = x86_64;
constexpr const char* kArch = "x86-64";
#endif

using isa::Form;

namespace {

struct Built {
  ExecMemory memory;
  std::vector<std::uint32_t> pc_offsets;
  std::unique_ptr<DebugRegistration> debug;
};

/// The variant JitOptions::optimize builds with the optimizing tier at compile time.
Variant optimized_variant(const JitOptions& options) {
  if (options.checked) return Variant::Checked;
  return options.counted ? Variant::Counted : Variant::Fast;
}

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::Fast: return "fast";
    case Variant::Counted: return "counted";
    case Variant::Checked: return "checked";
  }
  return "?";
}

}  // namespace

struct JitProgram::Impl {
  vm::Program program;
  const vm::HelperRegistry* registry = nullptr;
  std::vector<std::uint64_t> lddw_values;
  std::vector<const vm::HelperEntry*> helpers;
  JitOptions options;
  struct Slot {
    std::once_flag once;
    std::atomic<bool> ready{false};  // built and fine: runs skip call_once (it costs ~60 instructions)
    std::optional<Result<Built>> built;
    ProgramCode code;  // filled once built; its address is known to the code before that
  };
  std::array<Slot, kNumVariants> slots;
  std::array<Slot, kNumVariants> optimized;  // the optimizing tier's code; `ready` switches runs to it

  /// The optimizing tier: front (jit/opt/) then the host's backend.
  Result<NativeCode> compile_optimized(const CompileRequest& req) const {
    // The program's function, then one per callback subprogram (each its own root).
    std::vector<opt::Function> functions;
    auto roots = opt::callback_roots(program);
    if (roots.empty() || roots.front() != 0) roots.insert(roots.begin(), 0);
    for (auto root : roots) {
      auto fn = opt::build_optimized(req, options.passes, options.facts, root);
      if (!fn) return std::move(fn).error();
      functions.push_back(std::move(*fn));
    }
    return backend::compile_optimized(functions, req);
  }

  CompileRequest request(Variant v, std::string* listing) const {
    CompileRequest req;
    req.program = &program;
    req.lddw_values = lddw_values;
    req.helpers = helpers;
    req.variant = v;
    req.blind_constants = options.blind_constants;
    req.blinding_seed = options.blind_constants ? std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32) : 0;
    req.baseline_isa_only = options.baseline_isa_only;
    req.zero_stack = options.zero_stack;
    req.listing = listing;
    req.program_code = &slots[static_cast<std::size_t>(v)].code;
    return req;
  }

  /// The annotated listing of `v`'s code from the optimizing tier (its backend writes the "tier:"
  /// line) or the baseline; `baseline_why` says why the baseline's (the tier's refusal), if it was asked.
  Result<std::string> listing(Variant v, bool optimizing, const std::string& baseline_why = {}) const {
    std::string text;
    const CompileRequest req = request(v, &text);
    auto native = optimizing ? compile_optimized(req) : backend::compile(req);
    if (!native) return std::move(native).error();
    if (optimizing) return text;
    return std::string("tier: baseline (") + kArch + ", " + variant_name(v) + " variant" +
           (baseline_why.empty() ? "" : "; " + baseline_why) + ")\n" + text;
  }

  /// The optimizing tier's listing, or the baseline's with the tier's reason where it refuses.
  Result<std::string> listing_preferring_optimized(Variant v) const {
    auto optimized = listing(v, true);
    if (optimized || optimized.error().code != Errc::Unsupported) return optimized;
    return listing(v, false, "the optimizing tier refused: " + optimized.error().reason);
  }

  Result<Built> build(Variant v, bool optimizing = false) {
    CompileRequest req = request(v, nullptr);
    Slot& slot = (optimizing ? optimized : slots)[static_cast<std::size_t>(v)];
    req.program_code = &slot.code;
    auto native = optimizing ? compile_optimized(req) : backend::compile(req);
    if (!native) return std::move(native).error();
    auto memory = ExecMemory::create(native->bytes);
    if (!memory) return std::move(memory).error();
    Built b;
    b.memory = std::move(*memory);
    b.pc_offsets = std::move(native->pc_offsets);
    ProgramCode& code = slot.code;
    code.program = &program;
    code.registry = registry;
    for (auto off : native->func_offsets) code.func_addresses.push_back(b.memory.address() + off);
    code.trampoline = b.memory.address();
    code.entry = b.memory.address() + b.pc_offsets[0];
    code.variant = v;
    const bool may_enter_frames = std::any_of(helpers.begin(), helpers.end(), [](const vm::HelperEntry* h) {
      return h != nullptr && h->id == kTailCallHelper;
    }) || std::any_of(program.ops.begin(), program.ops.end(), [&](auto op) {
      if (op == isa::kNoOp) return false;
      const Form f = isa::kOps[op].form;
      return f == Form::CallLocal || f == Form::CallReg;
    });
    // The optimizing tier keeps its frames on the native stack and clears them itself.
    if (!optimizing && (v != Variant::Fast || options.zero_stack))
      code.cleared_stack_bytes = may_enter_frames ? isa::kMaxRunFrames * isa::kStackBytes : isa::kStackBytes;
    code.zero_stack = options.zero_stack;
    if (options.register_with_debuggers)
      b.debug = DebugRegistration::create(options.name + "_" + variant_name(v) + (optimizing ? "_opt" : ""), b.memory.address(),
                                          b.memory.size_bytes());
    return b;
  }
};

namespace {
// Mirrors Interpreter::create: the same checks in the same order, so errors agree.
Result<void> prepare_program(JitProgram::Impl& impl, const vm::HelperRegistry& helpers,
                             const vm::PseudoResolver& resolve) {
  const auto& program = impl.program;
  const auto n = program.size();
  impl.lddw_values.assign(n, 0);
  impl.helpers.assign(n, nullptr);
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto& insn = program.insns[pc];
    const auto& op = program.op(pc);
    const auto at = static_cast<std::uint32_t>(pc);
    switch (op.form) {
      case Form::WideImm: {
        const auto src = static_cast<isa::LddwSrc>(insn.src);
        if (src == isa::LddwSrc::Imm64) {
          impl.lddw_values[pc] = program.wide_imm(pc);
        } else if (src == isa::LddwSrc::Func) {
          // Resolved by the backend to a native address.
        } else if (!resolve) {
          return make_error(Errc::Unsupported, std::string(op.mnemonic) + ": program refers to a map or BTF object but none was supplied", at);
        } else {
          auto v = resolve(src, insn.imm, program.insns[pc + 1].imm, at);
          if (!v) return std::move(v).error();
          impl.lddw_values[pc] = *v;
        }
        break;
      }
      case Form::Call: {
        const auto id = static_cast<std::uint32_t>(insn.imm);
        const auto* h = helpers.find(id);
        if (h == nullptr)
          return make_error(Errc::HelperFault, "call to unknown helper " + std::to_string(id), at);
        impl.helpers[pc] = h;
        break;
      }
      case Form::CallKfunc: {  // called like a helper: the same five registers in, r0 out
        auto k = vm::resolve_kfunc_call(program, pc, helpers);
        if (!k) return std::move(k).error();
        impl.helpers[pc] = &(*k)->call;
        break;
      }
      case Form::PacketLoad:
        if (helpers.packet_load() == nullptr) return vm::no_packet_load_error(at, op.mnemonic);
        impl.helpers[pc] = helpers.packet_load();  // the backends call it like a helper
        break;
      case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
      case Form::StoreReg: case Form::Atomic: case Form::Jump: case Form::Ja: case Form::Ja32:
      case Form::CallLocal: case Form::CallReg: case Form::Exit:
        break;
    }
  }
  return {};
}
}  // namespace

JitProgram::JitProgram() : impl_(std::make_unique<Impl>()) {}
JitProgram::JitProgram(JitProgram&&) noexcept = default;
JitProgram& JitProgram::operator=(JitProgram&&) noexcept = default;
JitProgram::~JitProgram() = default;

const vm::Program& JitProgram::program() const { return impl_->program; }

const ProgramCode* JitProgram::ready_code(Variant variant) const noexcept {
  // Runs take the optimizing tier's code of their variant once it is ready (as tier()).
  const auto v = static_cast<std::size_t>(variant);
  const auto& slot = impl_->optimized[v].ready.load(std::memory_order_acquire) ? impl_->optimized[v] : impl_->slots[v];
  return slot.ready.load(std::memory_order_acquire) ? &slot.code : nullptr;
}

const std::atomic<bool>& JitProgram::optimized_ready(Variant variant) const noexcept {
  return impl_->optimized[static_cast<std::size_t>(variant)].ready;
}

Result<JitProgram> JitProgram::compile(const vm::Program& program, const vm::HelperRegistry& helpers,
                                       const vm::PseudoResolver& resolve, const JitOptions& options) {
  if (program.insns.empty() || program.ops.size() != program.insns.size())
    return make_error(Errc::InvalidArgument, "JIT: program is empty or not decoded");
  if (auto e = vm::frame_pointer_write_error(program)) return std::move(*e);
  JitProgram jp;
  jp.impl_->program = program;
  jp.impl_->registry = &helpers;
  jp.impl_->options = options;
  auto prepared = prepare_program(*jp.impl_, helpers, resolve);
  if (!prepared) return std::move(prepared).error();
  if (options.optimize) {
    // Fall back to the baseline only where the tier says it does not support the program.
    auto optimized = jp.optimize(optimized_variant(options));
    if (optimized) return jp;
    if (optimized.error().code != Errc::Unsupported) return std::move(optimized).error();
  }
  auto built = jp.prepare(options.checked ? Variant::Checked : Variant::Fast);
  if (!built) return std::move(built).error();
  return jp;
}

Result<void> JitProgram::optimize(Variant variant) const {
  auto& slot = impl_->optimized[static_cast<std::size_t>(variant)];
  if (slot.ready.load(std::memory_order_acquire)) return {};
  std::call_once(slot.once, [&] {
    slot.built.emplace(impl_->build(variant, true));
    if (*slot.built) slot.ready.store(true, std::memory_order_release);
  });
  if (!*slot.built) return slot.built->error();
  return {};
}

Tier JitProgram::tier(Variant variant) const {
  return impl_->optimized[static_cast<std::size_t>(variant)].ready.load(std::memory_order_acquire) ? Tier::Optimized
                                                                                                  : Tier::Baseline;
}

Result<void> JitProgram::prepare(Variant variant) const {
  auto& slot = impl_->slots[static_cast<std::size_t>(variant)];
  if (slot.ready.load(std::memory_order_acquire)) return {};
  std::call_once(slot.once, [&] {
    slot.built.emplace(impl_->build(variant));
    if (*slot.built) slot.ready.store(true, std::memory_order_release);
  });
  if (!*slot.built) return slot.built->error();
  return {};
}

Result<const ProgramCode*> JitProgram::code_for(Variant variant) const {
  if (tier(variant) == Tier::Optimized) return &impl_->optimized[static_cast<std::size_t>(variant)].code;
  return baseline_code_for(variant);
}

Result<const ProgramCode*> JitProgram::baseline_code_for(Variant variant) const {
  auto ready = prepare(variant);
  if (!ready) return std::move(ready).error();
  return &impl_->slots[static_cast<std::size_t>(variant)].code;
}

Result<std::string> JitProgram::listing(Variant variant) const {
  if (tier(variant) == Tier::Optimized) return impl_->listing(variant, true);
  // Asked for at compile time and not built: refused; the listing says why (from a fresh attempt).
  if (impl_->options.optimize && variant == optimized_variant(impl_->options))
    return impl_->listing_preferring_optimized(variant);
  return impl_->listing(variant, false);
}

std::span<const std::uint8_t> JitProgram::code(Variant variant) const {
  const auto& slot = (tier(variant) == Tier::Optimized ? impl_->optimized : impl_->slots)[static_cast<std::size_t>(variant)];
  if (!slot.built || !*slot.built) return {};
  const auto& m = (*slot.built)->memory;
  return {m.data(), m.size_bytes()};
}

std::uint32_t JitProgram::native_offset(Variant variant, std::uint32_t pc) const {
  const auto& slot = impl_->slots[static_cast<std::size_t>(variant)];
  if (!slot.built || !*slot.built || pc >= (*slot.built)->pc_offsets.size()) return 0;
  return (*slot.built)->pc_offsets[pc];
}

Result<vm::ExecResult> JitProgram::run(vm::RunContext& ctx, std::span<const std::uint64_t> args,
                                       const vm::ExecOptions& options) const {
  const Variant variant = variant_for(options);
  // Built already (always, after the first run): no Result layers on the per-call path.
  const ProgramCode* code = ready_code(variant);
  if (code == nullptr) [[unlikely]] {
    auto built = code_for(variant);
    if (!built) return std::move(built).error();
    code = *built;
  }
  // As Interpreter::run_in: the run's mode and budget are visible to helpers, the count starts at 0.
  ctx.checked = options.checked;
  ctx.budget_insns = options.budget_insns;
  ctx.begin_run();
  const std::uint64_t budget =
      options.budget_insns ? options.budget_insns : std::numeric_limits<std::uint64_t>::max();
  auto run = run_native(*code, ctx, args, code->entry, options.budget_insns, budget, options.runs);
  if (!run) return std::move(run).error();
  vm::ExecResult result;
  result.r0 = run->r0;
  result.insns_executed = variant == Variant::Fast ? 0 : budget - run->budget_left;
  return result;
}

Result<std::string> disassemble_native(const vm::Program& program, const vm::HelperRegistry& helpers,
                                       const vm::PseudoResolver& resolve, const JitOptions& options,
                                       Variant variant) {
  JitProgram::Impl impl;
  impl.program = program;
  impl.registry = &helpers;
  impl.options = options;
  auto prepared = prepare_program(impl, helpers, resolve);
  if (!prepared) return std::move(prepared).error();
  if (options.optimize && variant == optimized_variant(options)) return impl.listing_preferring_optimized(variant);
  return impl.listing(variant, false);
}

}  // namespace bpfvm::jit
