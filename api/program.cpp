// Program: verification, context rewriting and engine preparation of one program, and its runs.
#include <linux/bpf.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>

#include "api/impl.hpp"
#include "api/program_type.hpp"
#include "helpers/kernel_helpers.hpp"
#include "helpers/test_run.hpp"
#include "maps/run_domain.hpp"
#include "verifier/verifier.hpp"
#include "vm/run_timer.hpp"

namespace bpfvm {

namespace {

// A repeated run announces a quiescent state this often, so map memory retired during a long repeat
// loop is reclaimed (the kernel's test-run loop lets RCU grace periods pass when it reschedules).
// Often: a program that replaces hash elements retires one per update, and what waits for a grace
// period is memory the map must add (1024 runs of 64 updates grew a map by 65,536 elements, #16).
// An announcement costs one load when nothing was retired.
constexpr std::uint32_t kRunsPerQuiescentState = 16;

verifier::MapInfo map_info_of(const maps::MapSpec& s) {
  verifier::MapInfo info{static_cast<std::uint32_t>(s.type), s.key_size, s.value_size, s.max_entries, s.map_flags,
                         nullptr, s.spin_lock_off};
  info.timer_off = s.timer_off;
  if (s.inner) info.inner = std::make_shared<const verifier::MapInfo>(map_info_of(*s.inner));
  return info;
}

std::optional<verifier::MapInfo> map_info_of(const Object::Impl& object, std::uint32_t index) {
  if (index >= object.map_defs.size() || object.map_defs[index] == nullptr) return std::nullopt;  // not created
  auto info = map_info_of(*object.map_defs[index]);
  if (index < object.frozen_values.size()) info.frozen_value = object.frozen_values[index];
  return info;
}

// "file.c:12: source text" for verifier messages, from BTF line info (the record at or before pc).
std::function<std::string(std::uint32_t)> line_info_of(const ProgramSource& source) {
  if (source.spec == nullptr || source.spec->line_info.empty()) return {};
  const auto* lines = &source.spec->line_info;
  return [lines](std::uint32_t pc) -> std::string {
    const loader::LineInfo* best = nullptr;
    for (const auto& l : *lines) {
      if (l.insn > pc) break;
      best = &l;
    }
    if (best == nullptr) return {};
    auto file = best->file.substr(best->file.find_last_of('/') + 1);
    return std::string(file) + ":" + std::to_string(best->line) + ": " + std::string(best->source);
  };
}

constexpr std::uint32_t kBtfFuncGlobal = 1;  // BTF_FUNC_GLOBAL: a FUNC's linkage (its vlen)
constexpr std::size_t kMaxFuncArgs = 5;      // MAX_BPF_FUNC_REG_ARGS

// One argument of a global function as the kernel's btf_prepare_func_args types it; an empty optional
// with `why` set when the kernel refuses the prototype.
std::optional<verifier::GlobalArg> global_arg_of(const loader::Btf& btf, std::uint32_t type, std::size_t index,
                                                 std::string_view func, std::string_view ctx_name,
                                                 bool kprobe, std::string& why) {
  const std::uint32_t t = btf.skip_mods_and_typedefs(type);
  const auto kind = btf.kind(t);
  if (kind == loader::BtfKind::Int || btf.is_any_enum(t)) return verifier::GlobalArg{};
  const std::string arg = "arg#" + std::to_string(index);
  if (kind != loader::BtfKind::Ptr) {
    why = arg + " type " + std::string(loader::btf_kind_name(kind)) + " in " + std::string(func) +
          "() is not supported yet";
    return std::nullopt;
  }
  // btf_get_prog_ctx_type: a pointer to the type's context struct (kprobe: also bpf_user_pt_regs_t).
  std::uint32_t pointee = btf.size_or_type(t);
  for (std::uint32_t id = pointee, depth = 0; kprobe && depth <= 32 && btf.is_mod_or_typedef(id); ++depth) {
    if (btf.kind(id) == loader::BtfKind::Typedef && btf.name(id) == "bpf_user_pt_regs_t")
      return verifier::GlobalArg{verifier::GlobalArgKind::Ctx, 0};
    id = btf.size_or_type(id);
  }
  pointee = btf.skip_mods_and_typedefs(pointee);
  if (btf.is_composite(pointee) && !ctx_name.empty() && btf.name(pointee) == ctx_name)
    return verifier::GlobalArg{verifier::GlobalArgKind::Ctx, 0};
  const auto size = btf.resolve_size(pointee);
  if (!size) {
    why = arg + " reference type('" + std::string(loader::btf_kind_name(btf.kind(pointee))) + " " +
          std::string(btf.name(pointee)) + "') size cannot be determined";
    return std::nullopt;
  }
  return verifier::GlobalArg{verifier::GlobalArgKind::Mem, static_cast<std::uint32_t>(*size)};
}

// What the kernel's check_abnormal_return / check_btf_func see of an ELF program's func info: none, or
// BTF with the subprograms whose return type is an int of at most 8 bytes or an enum (btf_type_is_small_int,
// btf_is_any_enum). Programs not from an object (assembly, raw bytecode) leave it unknown.
void set_func_info(const ProgramSource& source, const loader::Btf* btf, verifier::VerifierOptions& vo) {
  if (source.spec == nullptr) return;
  if (btf == nullptr || source.spec->func_info.empty()) {
    vo.func_info = verifier::VerifierOptions::FuncInfo::None;
    return;
  }
  vo.func_info = verifier::VerifierOptions::FuncInfo::Btf;
  for (const auto& fi : source.spec->func_info) {
    if (fi.insn == 0 || !btf->valid_id(fi.type_id) || btf->kind(fi.type_id) != loader::BtfKind::Func) continue;
    const std::uint32_t proto = btf->size_or_type(fi.type_id);
    if (!btf->valid_id(proto) || btf->kind(proto) != loader::BtfKind::FuncProto) continue;
    const std::uint32_t ret = btf->skip_mods_and_typedefs(btf->size_or_type(proto));
    if (ret != 0 && ((btf->kind(ret) == loader::BtfKind::Int && btf->size_or_type(ret) <= 8) || btf->is_any_enum(ret)))
      vo.scalar_return_funcs.push_back(fi.insn);
  }
}

// The program's global (BTF_FUNC_GLOBAL) subprograms with their prototypes, from BTF func info.
std::vector<verifier::GlobalFunc> global_funcs_of(const ProgramSource& source, const loader::Btf* btf,
                                                  const verifier::ProgramTypeInfo& type) {
  std::vector<verifier::GlobalFunc> out;
  if (source.spec == nullptr || btf == nullptr) return out;
  for (const auto& fi : source.spec->func_info) {
    // The main function is the program itself; only subprograms are verified on their own.
    if (fi.insn == 0 || !btf->valid_id(fi.type_id) || btf->kind(fi.type_id) != loader::BtfKind::Func) continue;
    if (btf->vlen(fi.type_id) != kBtfFuncGlobal) continue;
    verifier::GlobalFunc g;
    g.pc = fi.insn;
    g.name = std::string(fi.name);
    const std::uint32_t proto = btf->size_or_type(fi.type_id);
    if (btf->kind(proto) != loader::BtfKind::FuncProto) {
      g.unsupported = "its BTF type is not a function prototype";
      out.push_back(std::move(g));
      continue;
    }
    // Tags such as __arg_ctx / __arg_nonnull change how the kernel types an argument.
    for (std::uint32_t id = 1; id < btf->type_count() && g.unsupported.empty(); ++id)
      if (btf->kind(id) == loader::BtfKind::DeclTag && btf->size_or_type(id) == fi.type_id &&
          btf->decl_tag_component(id) >= 0 && btf->name(id).starts_with("arg:"))
        g.unsupported = "not supported yet by the verifier: argument decl tag '" + std::string(btf->name(id)) + "'";
    const std::uint16_t nargs = btf->vlen(proto);
    const std::uint32_t ret = btf->skip_mods_and_typedefs(btf->size_or_type(proto));
    if (g.unsupported.empty() && nargs > kMaxFuncArgs)
      g.unsupported = "Global function " + g.name + "() with " + std::to_string(nargs) + " > 5 args";
    if (g.unsupported.empty() && (ret == 0 || (btf->kind(ret) != loader::BtfKind::Int && !btf->is_any_enum(ret))))
      g.unsupported = "Global function " + g.name + "() doesn't return scalar. Only those are supported.";
    const bool kprobe = type.name == "kprobe";
    for (std::uint16_t i = 0; i < nargs && g.unsupported.empty(); ++i)
      if (auto arg = global_arg_of(*btf, btf->param(proto, i).type, i, g.name, type.ctx_btf_name, kprobe, g.unsupported))
        g.params.push_back(*arg);
    out.push_back(std::move(g));
  }
  return out;
}

constexpr std::uint32_t kProgTypeTracing = 26;  // BPF_PROG_TYPE_TRACING

// The largest writable raw tracepoint buffer run() provides (the kernel's are a few dozen bytes).
constexpr std::uint32_t kMaxTpBufferBytes = 64 * 1024;

// The first lddw of a kernel variable (BPF_PSEUDO_BTF_ID: a typed __ksym), or nullopt.
std::optional<std::size_t> first_kernel_variable_load(const vm::Program& program) {
  for (std::size_t pc = 0; pc < program.size(); ++pc)
    if (program.ops[pc] != isa::kNoOp && program.op(pc).form == isa::Form::WideImm &&
        program.insns[pc].src == isa::to_underlying(isa::LddwSrc::BtfId))
      return pc;
  return std::nullopt;
}

// Whether verifying needs the kernel's types: a tracing context, a kernel variable, or a helper
// returning a kernel object. (A load through a map pointer asks for them on demand.)
bool needs_kernel_types(const ProgramType& type, const vm::Program& program, const vm::HelperRegistry& helpers) {
  if (type.kernel_type == kProgTypeTracing || first_kernel_variable_load(program)) return true;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (program.ops[pc] != isa::kNoOp && program.op(pc).form == isa::Form::CallKfunc &&
        program.kfunc_name(program.insns[pc].imm) == nullptr)
      return true;  // a kfunc named only by its BTF id (raw bytecode): the kernel's BTF names it
    if (program.ops[pc] == isa::kNoOp || program.op(pc).form != isa::Form::Call) continue;
    const auto* entry = helpers.find(static_cast<std::uint32_t>(program.insns[pc].imm));
    if (entry && entry->signature.known && entry->signature.ret == RetType::PtrToBtfId) return true;
  }
  return false;
}

// Names every kfunc a `call kfunc` gives only by BTF id (raw bytecode, assembly) from the kernel's BTF,
// as the kernel's add_kfunc_call does; without one the engines refuse the call (vm::resolve_kfunc_call).
Result<void> name_kfuncs(vm::Program& program, const KernelBtfTypes* kernel) {
  if (kernel == nullptr) return {};
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp || program.op(pc).form != isa::Form::CallKfunc) continue;
    const auto& insn = program.insns[pc];
    if (insn.off != 0 || program.kfunc_name(insn.imm) != nullptr) continue;
    auto name = kernel->function_name(static_cast<std::uint32_t>(insn.imm));
    if (!name) return make_error(name.error().code, name.error().reason, static_cast<std::uint32_t>(pc));
    program.kfuncs.push_back({insn.imm, std::move(*name)});
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<Program::Impl>> prepare_program(const std::shared_ptr<const Object::Impl>& object,
                                                       const ProgramSource& source, const ProgramOptions& options) {
  const auto& vm_impl = *object->vm;
  // ProgramOptions::type replaces the type the section name gave, as iproute2 loads any section as
  // the type of the command (`tc` → sched_cls); it is the only type of a section no prefix explains.
  const ProgramType& type = options.type ? *options.type : source.type;
  if (type.entry == ProgramType::Entry::Context && type.kernel_type != 0) {
    if (auto known = ProgramType::kernel(type.kernel_type); !known)
      return make_error(known.error().code, "program '" + source.name + "': " + known.error().reason);
  } else if (type.entry == ProgramType::Entry::Context && source.spec != nullptr) {
    return make_error(Errc::Unsupported, "program '" + source.name + "' in section '" + source.section +
                                             "': the section names no program type libbpf knows; give one with --type (CLI) or ProgramOptions::type");
  }
  if (source.spec != nullptr && !source.spec->decode_error.empty())
    return make_error(Errc::Malformed, source.spec->decode_error);
  if (source.spec != nullptr && !source.spec->unresolved_extern.empty())
    return make_error(Errc::Unsupported, "program '" + source.name + "': not supported yet: " + source.spec->unresolved_extern +
                                             " (kfuncs the kernel's BTF lacks, and ksyms neither the kernel's BTF nor kallsyms resolve, name kernel code and objects)");
  auto impl = std::make_shared<Program::Impl>();
  // Process-wide on purpose: a thread's RunState may outlive a program, and a later program at the
  // same address must not look prepared (ids start at 1; 0 = prepared for nothing).
  static std::atomic<std::uint64_t> next_program_id{1};
  impl->id = next_program_id.fetch_add(1, std::memory_order_relaxed);
  impl->object = object;
  impl->name = source.name;
  impl->type = type;
  impl->options = options;
  const KernelBtfTypes* kernel =
      needs_kernel_types(type, source.program, vm_impl.helpers) ? object->kernel_types() : nullptr;
  auto type_result = type.kernel_type == kProgTypeTracing
                         ? tracing_type_of(type, source.spec ? std::string_view(source.spec->attach_target) : "", kernel)
                         : verifier_type_of(type);
  if (!type_result) return make_error(type_result.error().code, "program '" + source.name + "': " + type_result.error().reason);
  // Sleepable tracing (fentry.s/...): the kernel allows it only on its list of sleepable targets, with
  // other helpers; not modelled.
  constexpr std::uint32_t kBpfFSleepable = 1u << 4;  // BPF_F_SLEEPABLE
  if (type.kernel_type == kProgTypeTracing && source.spec && (source.spec->prog_flags & kBpfFSleepable))
    return make_error(Errc::Unsupported, "program '" + source.name + "': sleepable tracing programs are not supported yet");
  vm::Program program = source.program;
  if (auto named = name_kfuncs(program, kernel); !named) return std::move(named).error();
  verifier::ProgramTypeInfo type_info = std::move(*type_result);
  // A context as long as the caller's bytes (syscall) is not padded: its size is checked at run time.
  impl->ctx_bytes = type_info.ctx_size_at_run ? 0 : type_info.ctx_size_bytes;
  impl->ctx_size_at_run = type_info.ctx_size_at_run;
  impl->ctx_writable = std::any_of(type_info.fields.begin(), type_info.fields.end(),
                                   [](const verifier::CtxField& f) { return f.writable; });
  bool socket_after_ctx = false, skb_packet_pointers = false, tp_buffer = false;
  for (const auto& f : type_info.fields) {
    if (f.kind == verifier::CtxFieldKind::Scalar) continue;
    if (f.kind == verifier::CtxFieldKind::BtfPointer) {
      if (impl->run_refusal.empty())
        impl->run_refusal = "program '" + source.name + "': argument " + std::to_string(f.offset / 8) +
                            " of its attach target is a kernel object pointer; running such programs is not supported yet "
                            "(a userspace run has no kernel object to give)";
      continue;
    }
    impl->ctx_pointer_fields.emplace_back(f.offset, f.kind);
    skb_packet_pointers |= f.size_bytes == 4;  // __sk_buff's data/data_end/data_meta
    socket_after_ctx |= f.kind == verifier::CtxFieldKind::Socket;
    tp_buffer |= f.kind == verifier::CtxFieldKind::TpBuffer;
  }
  // A non-null socket field (bpf_sock_addr.sk) points at a struct bpf_sock run() places after the context.
  impl->run_ctx_bytes = impl->ctx_bytes + (socket_after_ctx ? sizeof(bpf_sock) : 0);
  impl->owners = object->maps.owners();
  // What run() gives r1 depends only on the type: fixed here, not worked out per call.
  impl->plain_input = type.entry == ProgramType::Entry::PlainMemory;
  impl->input_writable = impl->plain_input || impl->ctx_writable || type.kernel_type == 31 /* syscall */ ||
                         type.kernel_type == 0 || tp_buffer;

  std::vector<std::uint8_t> ctx_accesses;  // the verifier's per-insn context facts, for the ctx rewrite
  std::vector<vm::StackRange> stack_ranges;  // the verifier's per-insn stack bytes, for stack promotion
  bool zero_stack = false;                 // the verifier accepted reads of unwritten stack
  if (options.verify) {
    verifier::VerifierOptions vo;
    vo.program_type = std::move(type_info);
    const Object::Impl* obj = object.get();
    vo.map_info = [obj](std::uint32_t index) { return map_info_of(*obj, index); };
    vo.helpers = &vm_impl.helpers;
    vo.kernel_types = kernel;
    if (kernel == nullptr) vo.kernel_types_on_demand = [obj]() -> const verifier::KernelTypes* { return obj->kernel_types(); };
    vo.unprivileged = options.unprivileged;
    vo.permissive_constant_operands = options.permissive_constant_operands;
    vo.max_states = options.max_verifier_states;
    vo.max_memory_bytes = options.max_verifier_memory_bytes;
    vo.max_time_us = options.max_verifier_time_us;
    vo.log_level = options.verifier_log_level;
    vo.log = options.verifier_log;
    vo.line_info = line_info_of(source);
    vo.global_funcs = global_funcs_of(source, object->elf ? object->elf->btf.get() : nullptr, vo.program_type);
    set_func_info(source, object->elf ? object->elf->btf.get() : nullptr, vo);
    auto verified = verifier::verify(program, vo);
    if (!verified) return std::move(verified).error();
    ctx_accesses = verified->ctx_accesses();
    stack_ranges = verified->stack_ranges();
    zero_stack = verified->reads_uninit_stack();
    const auto& st = verified->stats();
    impl->report = VerifierReport{st.insns_processed, st.states_stored, st.stack_depth_bytes, st.time_us, {}, true};
    for (const auto& w : verified->warnings()) impl->report.warnings.push_back("insn " + std::to_string(w.pc) + ": " + w.message);
    impl->program = verified->program();  // dead calls of unregistered helpers are gone (sanitize_dead_code)
    helpers::specialize_kfuncs(impl->program, vo.program_type.packet_writable);
    // A writable raw tracepoint's buffer follows args[]: as long as the furthest byte the program
    // reaches (the kernel refuses to attach it to a tracepoint with a smaller writable buffer). The
    // verifier bounds that only by pointer arithmetic's 2^29: runs are refused past kMaxTpBufferBytes.
    if (tp_buffer && st.tp_buffer_bytes > kMaxTpBufferBytes)
      impl->run_refusal = "program '" + source.name + "' reaches byte " + std::to_string(st.tp_buffer_bytes) +
                          " of its tracepoint buffer; bpfvm runs writable tracepoints with at most " +
                          std::to_string(kMaxTpBufferBytes) + " bytes of buffer";
    else if (tp_buffer)
      impl->run_ctx_bytes += st.tp_buffer_bytes;
    impl->min_ctx_bytes = impl->ctx_size_at_run ? st.ctx_bytes_reached : 0;
  } else {
    impl->program = std::move(program);
  }

  if (object->verify_only) {
    // Opened to verify (LoadOptions::verify_only): the maps have no memory, so no engine is prepared.
    impl->run_refusal = "program '" + source.name + "': the object was opened to verify only (LoadOptions::verify_only): its maps have no memory, so it does not run";
    return impl;
  }
  impl->packet_type = packet_prog_type(type);
  // __sk_buff's 4-byte packet pointers (data, data_end) only the skb test run's ctx rewrite serves: an
  // __sk_buff type without one (lwt_seg6local: the kernel refuses its BPF_PROG_TEST_RUN, -ENOTSUPP,
  // and its seg6 helpers need kernel state) verifies but does not run.
  if (!impl->packet_type && skb_packet_pointers) {
    impl->run_refusal = "running " + type.name + " programs is not supported yet (the kernel cannot test-run them either)";
  }
  if (const auto packet_type = impl->packet_type) {
    auto rewritten = helpers::rewrite_ctx_access(impl->program, *packet_type, ctx_accesses);
    if (!rewritten) return std::move(rewritten).error();
    impl->program = std::move(*rewritten);
  }

  vm::PseudoResolver resolver = helpers::map_index_resolver(object->map_list);
  // A typed __ksym names kernel memory (a per-CPU variable, a kernel struct), which a userspace run
  // does not have; handing out made-up bytes would let the program read fiction. Such a program
  // verifies, and run() refuses it naming the symbol; its engines load 0 there, never executed.
  if (const auto ksym_pc = first_kernel_variable_load(impl->program)) {
    std::string what = "insn " + std::to_string(*ksym_pc);
    if (source.spec != nullptr)
      for (const auto& r : source.spec->relocations)
        if (r.kind == loader::AppliedReloc::Kind::Ksym) {
          what = "'" + r.target + "' at insn " + std::to_string(r.insn);
          break;
        }
    if (impl->run_refusal.empty())
      impl->run_refusal = "program '" + source.name + "' reads kernel variable " + what +
                          " (a typed __ksym); a userspace run has no kernel memory to give, so running it is not supported";
    resolver = [maps = std::move(resolver)](isa::LddwSrc src, std::int32_t imm, std::int32_t next_imm,
                                            std::uint32_t pc) -> Result<std::uint64_t> {
      if (src == isa::LddwSrc::BtfId) return std::uint64_t{0};
      return maps(src, imm, next_imm, pc);
    };
  }
  if (options.coverage && options.engine != Engine::Interpreter)
    return make_error(Errc::InvalidArgument, "edge coverage needs the interpreter engine");
  switch (options.engine) {
    case Engine::Interpreter: {
      auto in = vm::Interpreter::create(impl->program, vm_impl.helpers, resolver,
                                        vm::InterpreterOptions{.coverage = options.coverage, .zero_stack = zero_stack});
      if (!in) return std::move(in).error();
      impl->interpreter = std::make_shared<const vm::Interpreter>(std::move(*in));
      break;
    }
    case Engine::Jit: case Engine::JitOptimized: {
      jit::JitOptions jo;
      // The optimizing tier relies on what the verifier proved (no reads of uninitialized stack
      // through promoted slots, bounded calls): unverified programs stay on the baseline.
      jo.optimize = options.engine == Engine::JitOptimized && options.verify;
      jo.facts.pointers_stay_in_frame = options.verify;
      jo.facts.stack_ranges = std::move(stack_ranges);
      auto passes = jit::opt::passes_without(options.jit_opt_passes_off);
      if (!passes) return std::move(passes).error();
      jo.passes = *passes;
      jo.checked = options.checked;
      jo.counted = options.budget_insns != 0;
      jo.blind_constants = options.jit_blind_constants;
      jo.name = source.name;
      jo.register_with_debuggers = options.jit_register_with_debuggers;
      jo.zero_stack = zero_stack;
      auto code = jit::JitProgram::compile(impl->program, vm_impl.helpers, resolver, jo);
      if (!code) return std::move(code).error();
      impl->jit = std::make_shared<const jit::JitProgram>(std::move(*code));
      break;
    }
  }
  return impl;
}

Program::Program(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;
Program::~Program() = default;

const std::string& Program::name() const { return impl_->name; }
const ProgramType& Program::type() const { return impl_->type; }
const VerifierReport& Program::verifier_report() const { return impl_->report; }

Result<std::string> Program::native_listing() const {
  if (!impl_->jit) return make_error(Errc::InvalidArgument, "native code exists only for the JIT engine");
  // The variant runs use (checked, counted under a budget, or fast), not always the fast one.
  const auto variant = jit::variant_for(
      vm::ExecOptions{.budget_insns = impl_->options.budget_insns, .checked = impl_->options.checked});
  return impl_->jit->listing(variant);
}

namespace {
jit::Variant variant_of(const ProgramOptions& options) {
  return jit::variant_for(vm::ExecOptions{.budget_insns = options.budget_insns, .checked = options.checked});
}
}  // namespace

JitTier Program::jit_tier() const {
  if (!impl_->jit) return JitTier::None;
  return impl_->jit->tier(variant_of(impl_->options)) == jit::Tier::Optimized ? JitTier::Optimized : JitTier::Baseline;
}

Result<JitTier> Program::optimize() const {
  if (!impl_->jit) return make_error(Errc::InvalidArgument, "only JIT programs have an optimizing tier");
  auto built = impl_->jit->optimize(variant_of(impl_->options));
  if (!built) return std::move(built).error();
  return jit_tier();
}

std::vector<std::uint8_t> Program::bytecode() const { return vm::encode_program(impl_->program.insns); }

std::vector<SourceLine> Program::source_lines() const {
  std::vector<SourceLine> out;
  const auto* source = impl_->object->find(impl_->name);
  if (source == nullptr || source->spec == nullptr) return out;
  for (const auto& l : source->spec->line_info)
    out.push_back(SourceLine{l.insn, std::string(l.file), l.line, l.column, std::string(l.source)});
  return out;
}

void record_redirect(const helpers::RedirectRecord& r, RunOutput& out) {
  if (!r.set) return;
  if (r.map == nullptr || r.ifindex != 0) out.redirect_ifindex = r.ifindex;
  if (r.map != nullptr)
    out.redirect_map = RunOutput::RedirectMapTarget{r.map->name(), static_cast<std::uint32_t>(r.map->type()), r.key,
                                                    (r.flags & BPF_F_BROADCAST) != 0};
}

Result<vm::ExecResult> Program::Impl::execute_repeated(maps::RunGuard& guard, vm::RunContext& ctx,
                                                       std::span<const std::uint64_t> args,
                                                       std::uint32_t* edge_counters, std::uint32_t runs) const {
  for (; runs > kRunsPerQuiescentState; runs -= kRunsPerQuiescentState) {
    auto r = execute(ctx, args, edge_counters, kRunsPerQuiescentState);
    if (!r) return r;
    guard.quiescent_state();
  }
  return execute(ctx, args, edge_counters, runs);  // the last chunk (a single run: no loop, no copy)
}

Result<std::uint64_t> Program::Impl::run_timer_callback(const vm::KeptCallback& callback,
                                                        std::span<const std::uint64_t, 5> args,
                                                        std::span<const std::byte> key) const {
  // As a run of this program: a CPU slot of its maps' domain, its checked mode, owners and budget;
  // the key (the queue's copy) is read-only memory the callback may read.
  RunState state;
  state.reset();
  vm::RunContext& ctx = state.ctx;
  helpers::HelperRun& hr = state.helper_run;
  ctx.host = &hr;
  hr.timer_host = this;
  ctx.checked = options.checked;
  ctx.budget_insns = options.budget_insns;
  if (options.checked) ctx.owners = owners;
  ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(key.data()), key.size(), false, "map key"});
  maps::RunGuard guard(*object->maps.domain());
  hr.cpu = guard.cpu();
  return callback.call(callback.code, ctx, callback.fn_value, args);
}

namespace {

// The RunState of a thread's Program::run calls, kept between runs: its vectors (regions, owners)
// keep their capacity, so once a thread has run a program its next runs allocate nothing here, and
// the next plain run of the same program on an output buffer of the same place and size finds it set
// up. A run that starts while another is active on the same thread (a host helper running a program)
// uses its own.
thread_local RunState tl_run_state;

class ThreadRunState {
 public:
  ThreadRunState() {
    if (tl_run_state.in_use) {
      state_ = &nested_.emplace();
      return;
    }
    state_ = &tl_run_state;
    state_->in_use = true;
  }
  ~ThreadRunState() { state_->in_use = false; }
  ThreadRunState(const ThreadRunState&) = delete;
  ThreadRunState& operator=(const ThreadRunState&) = delete;
  RunState& get() { return *state_; }

 private:
  RunState* state_ = nullptr;
  std::optional<RunState> nested_;
};

bool overlaps(std::span<const std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  if (a.empty() || b.capacity() == 0) return false;
  const auto* lo = b.data();
  return a.data() < lo + b.capacity() && lo < a.data() + a.size();
}

}  // namespace

Result<RunOutput> Program::run(const RunInput& input) const {
  RunOutput out;
  if (auto r = run(input, out); !r) return std::move(r).error();
  return out;
}

Result<void> Program::run(const RunInput& input, RunOutput& out) const {
  ThreadRunState state;
  return run_program(*impl_, state.get(), input, out);
}

void RunState::reset() {
  // Field by field: assigning a value-initialised RunContext costs a 200-byte clear (rep stos), and
  // the vectors keep their capacity this way. A field added to RunContext changes its size and stops
  // the build here until it is reset too.
  static_assert(sizeof(vm::RunContext) == 216, "reset() must reset every RunContext field");
  vm::RunContext& c = ctx;
  c.current_helper = nullptr;
  c.host = nullptr;
  c.stack = vm::Region{0, 0, true, "stack"};
  c.regions.clear();
  c.owners.clear();
  c.helper_fault.clear();
  c.checked = false;
  c.budget_insns = 0;
  c.insns_executed = 0;
  c.edge_counters = nullptr;
  c.edge_counters_owner = nullptr;
  c.tail_calls = 0;
  c.tail_call_target = nullptr;
  c.engine_tail_calls = false;
  c.invoke_callback = nullptr;
  c.engine = nullptr;
  c.keep_callback = nullptr;
  helper_run = helpers::HelperRun{};
  prepared_program = 0;
}

namespace {
// The kernel's struct bpf_sysctl_kern values for one access: both buffers PAGE_SIZE, the write's
// value only for a write (new_val NULL otherwise).
helpers::SysctlRun sysctl_run(const SysctlAccess& a) {
  constexpr std::size_t kPageBytes = 4096;
  helpers::SysctlRun s;
  s.name = std::string(a.name);
  const auto current = a.current_value.first(std::min(a.current_value.size(), kPageBytes));
  s.current_value.assign(current.begin(), current.end());
  if (a.write) {
    const auto value = a.new_value.first(std::min(a.new_value.size(), kPageBytes));
    s.new_value.assign(value.begin(), value.end());
  }
  return s;
}

// The types whose hooks run through bpf_prog_run_array_cg (RunOutput::cgroup_retval).
bool is_cgroup_hook(const ProgramType& type) {
  switch (type.kernel_type) {
    case BPF_PROG_TYPE_CGROUP_SOCK:
    case BPF_PROG_TYPE_CGROUP_DEVICE:
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
    case BPF_PROG_TYPE_CGROUP_SYSCTL:
    case BPF_PROG_TYPE_CGROUP_SOCKOPT:
      return true;
    default:
      return false;
  }
}
}  // namespace

Result<void> run_program(const Program::Impl& p, RunState& state, const RunInput& input, RunOutput& out) {
  const Object::Impl& object = *p.object;
  const auto repeat = std::max<std::uint32_t>(input.repeat, 1);
  const bool timed = input.measure_time || repeat > 1;
  std::uint32_t* const edges = input.edge_counters.empty() ? nullptr : input.edge_counters.data();
  if (edges != nullptr) {
    if (!p.interpreter || !p.options.coverage)
      return make_error(Errc::InvalidArgument, "edge counters need a program loaded with ProgramOptions::coverage");
    if (input.edge_counters.size() < 2 * p.program.size())
      return make_error(Errc::InvalidArgument, "edge counters: need " + std::to_string(2 * p.program.size()) +
                                                   ", have " + std::to_string(input.edge_counters.size()));
  }
  if (!p.run_refusal.empty()) return make_error(Errc::Unsupported, p.run_refusal);
  if (p.ctx_size_at_run) {
    // The kernel's bpf_prog_test_run_syscall: -EINVAL when ctx_size_in < max_ctx_offset or > U16_MAX.
    const std::size_t given = (input.ctx.empty() ? input.data : input.ctx).size();
    if (given < p.min_ctx_bytes || given > verifier::program_types::kSyscallCtxMaxBytes)
      return make_error(Errc::InvalidArgument, "the program's context accesses reach byte " + std::to_string(p.min_ctx_bytes) +
                                                   "; the run gives " + std::to_string(given) +
                                                   " bytes of context (the kernel's test run: EINVAL below that or above 65535)");
  }
  const bool checked = p.options.checked || edges != nullptr;
  clear_results(out);

  if (const auto packet_type = p.packet_type) {
    helpers::TestRunOptions o;
    o.type = *packet_type;
    o.expected_attach_type = p.type.expected_attach_type;
    o.data_in = input.data;  // copied into the frame before the run
    o.ctx_in = input.ctx;
    o.repeat = repeat;
    o.checked = checked;
    o.measure_time = timed;
    state.reset();  // test_run sets the context up itself
    o.context = &state.ctx;
    // One CPU slot for the whole test run, as the kernel's test run keeps one CPU (migrate_disable).
    maps::RunGuard guard(*object.maps.domain());
    // The callbacks capture one pointer each, so std::function keeps them inline (no allocation).
    struct Packet {
      const Program::Impl& p;
      const RunInput& input;
      maps::RunGuard& guard;
      std::uint32_t* edges;
      bool checked;
      std::uint64_t insns = 0;
    } run{p, input, guard, edges, checked};
    o.setup = [r = &run](helpers::HelperRun& hr, vm::RunContext& ctx) {
      hr.embedder = r->input.host_data;
      hr.timer_host = &r->p;
      hr.cpu = r->guard.cpu();
      if (r->checked) ctx.owners = r->p.owners;
    };
    auto runner = [r = &run](vm::RunContext& ctx, std::span<const std::uint64_t> args,
                             std::uint32_t runs) -> Result<vm::ExecResult> {
      auto e = r->p.execute_repeated(r->guard, ctx, args, r->edges, runs);
      if (e) r->insns = e->insns_executed;
      return e;
    };
    // The test run writes into out's own buffers (swapped in and back), so they are reused.
    helpers::TestRunResult r;
    r.data_out.swap(out.data_out);
    r.ctx_out.swap(out.ctx_out);
    auto ran = helpers::test_run(runner, o, r);
    r.data_out.swap(out.data_out);
    r.ctx_out.swap(out.ctx_out);
    if (!ran) return std::move(ran).error();
    out.r0 = r.r0;
    out.retval = r.retval;
    out.insns_executed = run.insns;
    if (timed) {
      out.ns_per_run = r.duration_ns;
      out.cpu_ns_per_run = r.cpu_duration_ns;
    }
    record_redirect(r.redirect, out);
    out.msg_apply_bytes = r.msg_apply_bytes;
    out.msg_cork_bytes = r.msg_cork_bytes;
    out.selected_socket = r.selected_socket;
    return {};
  }

  // Plain programs get the input buffer in r1 and its length in r2; context programs get a copy of
  // the context bytes (or of the data) in r1. Either is zero-padded to the verifier's bound, as the
  // kernel's bpf_ctx_init zero-fills a short ctx_in: a verified program may read all of it. The copy
  // is the output buffer itself (data_out or ctx_out), so a caller that reuses `out` reuses it.
  const bool plain = p.plain_input;
  const auto source = plain || input.ctx.empty() ? input.data : input.ctx;
  // Packet types ran through test_run above, which builds their pointers; here the context's pointer
  // fields are set by run(): a non-null socket (bpf_sock_addr.sk) and a writable raw tracepoint's
  // buffer (args[0]) are the bytes right after the context (the caller's bytes there, zero-filled), a
  // maybe-null one is NULL (bpf_sock_ops.sk: no full socket), packet pointers name an empty packet
  // (skb_data == skb_data_end). ctx_out shows them as 0.
  const std::size_t size = std::max<std::size_t>(source.size(), p.run_ctx_bytes);
  std::vector<std::uint8_t>& buffer = plain ? out.data_out : out.ctx_out;
  (plain ? out.ctx_out : out.data_out).clear();
  if (overlaps(source, buffer)) {
    std::vector<std::uint8_t> copy(source.begin(), source.end());  // the input is the previous output
    buffer.assign(size, 0);
    std::memcpy(buffer.data(), copy.data(), copy.size());
  } else {
    buffer.resize(size);  // each byte written once below: the input, then the zero padding
    if (!source.empty()) std::memcpy(buffer.data(), source.data(), source.size());
    if (size > source.size()) std::memset(buffer.data() + source.size(), 0, size - source.size());
  }
  // The context's set-up (the input region, the owners of checked runs) stays from the previous run
  // when it was this program's on the same buffer (a reused `out`, a Runner): only what a run may
  // leave behind is reset below.
  vm::RunContext& ctx = state.ctx;
  helpers::HelperRun& hr = state.helper_run;
  const auto base = reinterpret_cast<std::uintptr_t>(buffer.data());
  if (state.prepared_program != p.id || state.prepared_base != base || state.prepared_size != buffer.size() ||
      state.prepared_checked != checked) [[unlikely]] {
    state.reset();
    ctx.host = &hr;
    hr.timer_host = &p;
    ctx.regions.push_back(vm::Region{base, buffer.size(), p.input_writable, plain ? "input" : "ctx"});
    if (checked) ctx.owners = p.owners;
    state.prepared_program = p.id;
    state.prepared_base = base;
    state.prepared_size = buffer.size();
    state.prepared_checked = checked;
  }
  state.begin_run(input.host_data);
  const bool cgroup_hook = is_cgroup_hook(p.type);
  if (cgroup_hook && p.type.expected_attach_type == BPF_CGROUP_GETSOCKOPT)
    hr.cgroup_retval_field = buffer.data() + offsetof(bpf_sockopt, retval);
  std::optional<helpers::SysctlRun> sysctl;
  if (input.sysctl != nullptr && p.type.kernel_type == BPF_PROG_TYPE_CGROUP_SYSCTL && buffer.size() >= sizeof(bpf_sysctl)) {
    sysctl = sysctl_run(*input.sysctl);
    const std::uint32_t write = input.sysctl->write ? 1 : 0;
    std::memcpy(buffer.data() + offsetof(bpf_sysctl, write), &write, sizeof write);
    hr.sysctl = &*sysctl;
  }
  for (const auto& [off, kind] : p.ctx_pointer_fields) {
    const std::uint64_t value = kind == verifier::CtxFieldKind::Socket || kind == verifier::CtxFieldKind::TpBuffer
                                    ? base + p.ctx_bytes
                                : kind == verifier::CtxFieldKind::SocketOrNull || kind == verifier::CtxFieldKind::SockCommonOrNull
                                    ? 0
                                    : base + buffer.size();  // an empty packet at the buffer's end
    std::memcpy(buffer.data() + off, &value, sizeof value);
  }
  const std::uint64_t args[] = {buffer.empty() ? 0 : base, source.size()};
  maps::RunGuard guard(*object.maps.domain());
  hr.cpu = guard.cpu();
  // Repetitions share the buffer, as test runs share the packet: a run sees what the previous one wrote.
  std::optional<vm::RunTimer> timer;
  if (timed) timer.emplace();
  const std::span<const std::uint64_t> arg_span(args, plain ? 2 : 1);
  auto r = repeat == 1 ? p.execute(ctx, arg_span, edges)  // one call layer less on the per-event path
                       : p.execute_repeated(guard, ctx, arg_span, edges, repeat);
  if (timer) {
    out.cpu_ns_per_run = static_cast<double>(timer->cpu_ns()) / repeat;  // CPU interval inside the wall one
    out.ns_per_run = static_cast<double>(timer->wall_ns()) / repeat;
  }
  for (const auto& f : p.ctx_pointer_fields) std::memset(buffer.data() + f.first, 0, sizeof(std::uint64_t));
  hr.sysctl = nullptr;  // `sysctl` ends with this call
  if (!r) {
    state.prepared_program = 0;  // the run may have stopped with the context mid-change (helper fault)
    return std::move(r).error();
  }
  record_results(r->r0, r->insns_executed, hr.redirect, out);
  if (cgroup_hook) {
    std::int32_t retval = hr.cgroup_retval;
    if (hr.cgroup_retval_field != nullptr) std::memcpy(&retval, hr.cgroup_retval_field, sizeof retval);
    // bpf_prog_run_array_cg: a program returning 0 makes the hook's result -EPERM unless it is an error already.
    if (static_cast<std::uint32_t>(r->r0) == 0 && !(retval < 0 && retval >= -4095)) retval = -EPERM;
    out.cgroup_retval = retval;
    // __cgroup_bpf_run_filter_sysctl: the program's new value replaces the write's when the hook allows it.
    if (sysctl && sysctl->new_updated && retval == 0) out.sysctl_new_value = std::move(sysctl->new_value);
  }
  return {};
}

}  // namespace bpfvm
