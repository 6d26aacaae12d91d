// Vm: a runtime instance — kernel helpers plus the host's, and the doors objects come in by.
#include <fstream>
#include <iterator>

#include "api/impl.hpp"
#include "helpers/timer_queue.hpp"
#include "api/kallsyms.hpp"
#include "helpers/kernel_helpers.hpp"
#include "loader/section_names.hpp"
#include "vm/assembler.hpp"

namespace bpfvm {

void* helper_user_data(const HelperCall* call) noexcept {
  return call->current_helper ? call->current_helper->user : nullptr;
}

void* helper_host_data(const HelperCall* call) noexcept {
  const auto* run = static_cast<const helpers::HelperRun*>(call->host);
  return run ? run->embedder : nullptr;
}

void helper_fail(HelperCall* call, std::string_view reason) { call->helper_fault = std::string(reason); }

bool helper_memory_ok(const HelperCall* call, const void* addr, std::size_t size_bytes, bool write) noexcept {
  return !call->checked || call->allowed(reinterpret_cast<std::uintptr_t>(addr), size_bytes, write);
}

Vm::Vm(const VmOptions& options) : impl_(std::make_shared<Impl>()) {
  impl_->options = options;
  helpers::register_kernel_helpers(impl_->helpers, impl_->runtime);
}
Vm::Vm(Vm&&) noexcept = default;
Vm& Vm::operator=(Vm&&) noexcept = default;
Vm::~Vm() = default;

void Vm::add_helper(HostHelper h) {
  impl_->helpers.add(vm::HelperEntry{h.id, std::move(h.name), h.fn, h.user, h.signature});
}

void Vm::add_kfunc(HostKfunc k) {
  vm::KfuncEntry e;
  e.call = vm::HelperEntry{0, std::move(k.name), k.fn, k.user, {}};
  e.signature = k.signature;
  e.program_types = std::move(k.program_types);
  impl_->helpers.add_kfunc(std::move(e));
}

void Vm::set_trace_sink(std::function<void(std::string_view)> sink) { impl_->runtime.trace_sink = std::move(sink); }

void Vm::set_current_task(std::uint32_t tgid, std::uint32_t pid, std::uint32_t uid, std::uint32_t gid, std::string comm) {
  // No cgroup for a task the embedder names: bpf_get_current_cgroup_id and the ancestors answer 0.
  impl_->runtime.task = helpers::TaskIdentity{tgid, pid, uid, gid, std::move(comm), 0, 0, std::vector<std::uint64_t>{}};
}

namespace {

Result<Object> object_from_program(std::shared_ptr<Object::Impl> impl, Result<vm::Program> program,
                                   const ProgramType& type, std::string name) {
  if (!program) return std::move(program).error();
  ProgramSource source;
  source.name = std::move(name);
  source.type = type;
  source.program = std::move(*program);
  impl->programs.push_back(std::move(source));
  return Object::Impl::make(std::move(impl));
}

}  // namespace

void Vm::set_clock(std::function<std::uint64_t()> now_ns) {
  auto& c = impl_->runtime.clocks;
  if (!now_ns) {
    const auto host = helpers::Clocks::host();
    c.monotonic_ns = host.monotonic_ns;
    c.boot_ns = host.boot_ns;
    c.realtime_ns = host.realtime_ns;
    return;
  }
  c.monotonic_ns = now_ns;
  c.boot_ns = now_ns;
  c.realtime_ns = std::move(now_ns);
}

Result<std::size_t> Vm::run_due_timers() { return impl_->runtime.timers->run_due(impl_->runtime.clocks); }

std::optional<std::uint64_t> Vm::next_timer_expiry() const { return impl_->runtime.timers->next_expiry(); }

Result<Object> Vm::open_bytecode(std::span<const std::uint8_t> bytecode, const ProgramType& type, std::string name) const {
  auto impl = std::make_shared<Object::Impl>(impl_->options.nr_cpus);
  impl->vm = impl_;
  return object_from_program(std::move(impl), vm::decode_program(bytecode, name), type, name);
}

Result<Object> Vm::open_assembly(std::string_view text, const ProgramType& type, std::string name) const {
  auto insns = vm::assemble(text);
  if (!insns) return std::move(insns).error();
  auto impl = std::make_shared<Object::Impl>(impl_->options.nr_cpus);
  impl->vm = impl_;
  return object_from_program(std::move(impl), vm::decode_program(std::move(*insns), name), type, name);
}

Result<Object> Vm::open_elf_file(const std::string& path, const LoadOptions& options) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::Io, "cannot open " + path);
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto base = path.substr(path.find_last_of('/') + 1);
  if (base.size() > 2 && base.ends_with(".o")) base.resize(base.size() - 2);
  if (auto dot = base.find('.'); dot != std::string::npos) base.resize(dot);  // "x.bpf.o" -> "x", like libbpf
  return open_elf(bytes, options, base);
}

Result<Object> Vm::open_elf(std::span<const std::uint8_t> elf, const LoadOptions& options, std::string object_name) const {
  loader::LoadOptions lo;
  // Parsed only where needed (a vmlinux takes milliseconds): by the loader for CO-RE relocations, else
  // by Object::Impl::kernel_types() when a program needs kernel struct layouts.
  lo.target_btf = options.target_btf;
  lo.core_without_target = options.core_without_target;
  lo.kconfig = options.kconfig;
  lo.kernel_symbol_address = options.kernel_symbol_address ? options.kernel_symbol_address : kallsyms_address;
  lo.object_name = std::move(object_name);
  auto loaded = loader::load_object(elf, lo);
  if (!loaded) return std::move(loaded).error();
  auto impl = std::make_shared<Object::Impl>(impl_->options.nr_cpus);
  impl->vm = impl_;
  impl->elf = std::move(*loaded);
  impl->target_btf = impl->elf->core_target;
  if (!impl->target_btf) impl->target_btf_bytes = options.target_btf;
  if (options.create_maps)
    if (auto ok = impl->create_maps(impl_->options.max_map_memory_bytes, options.inner_map_templates, !options.verify_only); !ok)
      return std::move(ok).error();
  for (const auto& spec : impl->elf->programs) {
    ProgramSource source;
    source.name = spec.name;
    source.section = spec.section;
    auto type = ProgramType::kernel(spec.prog_type);
    if (type) {
      source.type = std::move(*type);
      source.type.expected_attach_type = spec.expected_attach_type;
    } else {
      source.type.name = std::string(loader::prog_type_name(spec.prog_type));
      source.type.kernel_type = spec.prog_type;  // load() refuses it with the reason
      source.type.entry = ProgramType::Entry::Context;
    }
    source.autoload = spec.autoload;
    source.program = spec.program;
    source.spec = &spec;
    impl->programs.push_back(std::move(source));
  }
  return Object::Impl::make(std::move(impl));
}

}  // namespace bpfvm
