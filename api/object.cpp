// Object: an opened ELF object or bytecode program — its maps (created with kernel semantics and
// initial contents) and the programs it can load.
#include <linux/bpf.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "api/impl.hpp"
#include "loader/object_report.hpp"
#include "maps/prog_array_map.hpp"
#include "verifier/verifier.hpp"
#include "vm/disassembler.hpp"

namespace bpfvm {

namespace {

maps::MapSpec map_spec_of(const loader::MapSpec& l) {
  maps::MapSpec m;
  m.type = static_cast<maps::MapType>(l.type);
  m.key_size = l.key_size;
  m.value_size = l.value_size;
  m.max_entries = l.max_entries;
  m.map_flags = l.map_flags;
  m.map_extra = l.map_extra;
  m.name = l.kernel_name.empty() ? l.name : l.kernel_name;
  m.numa_node = l.numa_node;
  m.spin_lock_off = l.spin_lock_off;
  m.timer_off = l.timer_off;
  m.btf_key_value = l.key_type_id != 0 && l.value_type_id != 0;
  if (l.inner) m.inner = std::make_shared<const maps::MapSpec>(map_spec_of(*l.inner));
  return m;
}

std::string map_error(const loader::MapSpec& spec, int err, const std::string& what) {
  return "map '" + spec.name + "': " + what + " failed with errno " + std::to_string(-err);
}

bool is_map_in_map(const loader::MapSpec& spec) {
  return spec.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

// The inner template the host names for a map-in-map whose definition has none (libbpf 0.x's
// bpf_map__set_inner_map_fd: -EINVAL for a map that is no map-in-map or already has a template).
Result<std::vector<std::shared_ptr<const maps::MapSpec>>> inner_templates_of(
    const std::vector<loader::MapSpec>& specs, const std::map<std::string, std::string, std::less<>>& named) {
  std::vector<std::shared_ptr<const maps::MapSpec>> out(specs.size());
  auto index_of = [&](std::string_view name) {
    std::size_t i = 0;
    while (i < specs.size() && specs[i].name != name) ++i;
    return i;
  };
  for (const auto& [outer_name, template_name] : named) {
    const std::string at = "inner map template '" + template_name + "' for map '" + outer_name + "'";
    const std::size_t outer = index_of(outer_name), inner = index_of(template_name);
    if (outer == specs.size()) return make_error(Errc::InvalidArgument, at + ": the object has no map '" + outer_name + "'");
    if (inner == specs.size()) return make_error(Errc::InvalidArgument, at + ": the object has no map '" + template_name + "'");
    if (!is_map_in_map(specs[outer])) return make_error(Errc::InvalidArgument, at + ": '" + outer_name + "' is not a map-in-map");
    if (specs[outer].inner) return make_error(Errc::InvalidArgument, at + ": '" + outer_name + "' already has one from its definition");
    out[outer] = std::make_shared<const maps::MapSpec>(map_spec_of(specs[inner]));
  }
  return out;
}

// The name of a map `program` loads (lddw MapIdx / MapIdxValue) that create_maps() left out, or "".
std::string uncreated_map_used(const Object::Impl& object, const vm::Program& program) {
  for (std::size_t pc = 0; pc + 1 < program.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp || program.op(pc).form != isa::Form::WideImm) continue;
    const auto src = static_cast<isa::LddwSrc>(program.insns[pc].src);
    const auto index = static_cast<std::uint32_t>(program.insns[pc].imm);
    if ((src == isa::LddwSrc::MapIdx || src == isa::LddwSrc::MapIdxValue) && index < object.map_defs.size() &&
        object.map_defs[index] == nullptr)
      return object.map_names[index];
  }
  return {};
}

}  // namespace

Result<void> Object::Impl::create_maps(std::uint64_t max_bytes,
                                       const std::map<std::string, std::string, std::less<>>& inner_templates,
                                       bool allocate) {
  const auto& specs = elf->maps;
  auto templates = inner_templates_of(specs, inner_templates);
  if (!templates) return std::move(templates).error();
  // What each map is created as: its definition, the inner template the host named, libbpf's defaults.
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    auto created = map_spec_of(spec);
    if ((*templates)[i]) created.inner = (*templates)[i];
    map_names.push_back(spec.name);
    if (is_map_in_map(spec) && !created.inner) {  // left for load() to name
      map_defs.push_back(nullptr);
      frozen_values.push_back(nullptr);
      continue;
    }
    // libbpf: a perf_event_array declared with max_entries 0 gets one slot per possible CPU.
    if (created.type == maps::MapType::PerfEventArray && created.max_entries == 0) created.max_entries = maps.domain()->nr_cpus();
    // cilium/ebpf (its loader fixtures leave them 0): a perf_event_array's key and value are 4-byte
    // ints (a CPU index and a perf event fd), the only size the kernel takes, so 0 means 4.
    if (created.type == maps::MapType::PerfEventArray) {
      if (created.key_size == 0) created.key_size = 4;
      if (created.value_size == 0) created.value_size = 4;
    }
    // Frozen at creation with exactly these bytes (below), so what the verifier reads is what runs see.
    std::shared_ptr<const std::vector<std::uint8_t>> frozen;
    if (spec.frozen && (created.map_flags & BPF_F_RDONLY_PROG) && created.type == maps::MapType::Array) {
      std::vector<std::uint8_t> value(created.value_size, 0);
      std::copy_n(spec.initial_value.begin(), std::min(value.size(), spec.initial_value.size()), value.begin());
      frozen = std::make_shared<const std::vector<std::uint8_t>>(std::move(value));
    }
    frozen_values.push_back(std::move(frozen));
    map_defs.push_back(std::make_shared<const maps::MapSpec>(std::move(created)));
  }
  if (!allocate) {
    // Verification only: every map is checked as creating it would be, and none takes memory.
    verify_only = true;
    for (std::size_t i = 0; i < specs.size(); ++i)
      if (map_defs[i])
        if (auto ok = maps::check_map_creatable(*map_defs[i], maps.domain()->nr_cpus()); !ok)
          return make_error(ok.error().code, "map '" + specs[i].name + "': " + ok.error().reason);
    return {};
  }
  // Sizes come from untrusted headers: check the sum before allocating anything.
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::uint64_t bytes = maps::map_memory_bytes(map_defs[i] ? *map_defs[i] : map_spec_of(specs[i]), maps.domain()->nr_cpus());
    total += bytes;
    if (max_bytes != 0 && total > max_bytes)
      return make_error(Errc::InvalidArgument,
                        "map '" + specs[i].name + "': needs " + std::to_string(bytes) + " bytes, so the object's maps would need " +
                            std::to_string(total) + ", above the cap of " + std::to_string(max_bytes) +
                            " bytes (VmOptions::max_map_memory_bytes, bpfvm --max-map-memory)");
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!map_defs[i]) {
      map_list.push_back(nullptr);
      continue;
    }
    auto index = maps.create(*map_defs[i]);
    if (!index) return make_error(index.error().code, "map '" + specs[i].name + "': " + index.error().reason);
    map_list.push_back(maps.get(*index));
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    auto* map = map_list[i];
    if (map == nullptr) continue;
    if (!spec.initial_value.empty()) {
      // Global data: one array element, key 0, holding the section's bytes (libbpf's internal maps).
      const std::uint32_t key = 0;
      std::vector<std::uint8_t> value(map->spec().value_size, 0);
      std::copy_n(spec.initial_value.begin(), std::min(value.size(), spec.initial_value.size()), value.begin());
      if (int err = map->host_update(&key, value.data(), 0); err != 0)
        return make_error(Errc::Internal, map_error(spec, err, "initial value"));
    }
    for (const auto& slot : spec.initial_slots) {
      if (slot.target != loader::MapSlotInit::Target::Map) continue;  // programs: filled at load()
      // The "fd" an outer map resolves is the inner map's MapTable index (its id - 1), which differs
      // from the loader's index once a map-in-map without template was left out.
      const std::uint32_t inner_index = map_list[slot.index]->id() - 1;
      if (int err = map->host_update(&slot.slot, &inner_index, 0); err != 0)
        return make_error(Errc::InvalidArgument, map_error(spec, err, "inner map slot " + std::to_string(slot.slot)));
    }
    if (spec.frozen) {
      if (int err = map->freeze(); err != 0) return make_error(Errc::Internal, map_error(spec, err, "freeze"));
    }
  }
  return {};
}

void Object::Impl::TailTarget::adopt(const Program::Impl& program) {
  // A program run() refuses is no tail-call target either: its slot stays empty (a tail call falls through).
  if (!program.run_refusal.empty()) return;
  if (program.interpreter) {
    if (interpreter) retired.push_back(interpreter);
    interpreter = program.interpreter;
    slot.interpreter.store(interpreter.get(), std::memory_order_release);
  }
  if (program.jit) {
    if (jit) retired.push_back(jit);
    jit = program.jit;
    slot.jit.store(jit.get(), std::memory_order_release);
  }
}

bool Object::Impl::TailTarget::ready_for(const ProgramOptions& options) const {
  if (options.engine == Engine::Jit || options.engine == Engine::JitOptimized) return jit != nullptr;
  return interpreter && (!options.coverage || interpreter->has_coverage());
}

const KernelBtfTypes* Object::Impl::kernel_types() const {
  const std::lock_guard lock(kernel_types_mutex);
  if (!kernel_types_read_) {
    kernel_types_read_ = true;
    std::shared_ptr<const loader::CoreTarget> target = target_btf;
    if (!target && !target_btf_bytes.empty()) {
      // The host's target BTF, never replaced by the running kernel's: one that does not parse gives none.
      if (auto parsed = loader::CoreTarget::parse(target_btf_bytes)) target = std::move(*parsed);
    } else if (!target) {
      std::ifstream in("/sys/kernel/btf/vmlinux", std::ios::binary);
      const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      if (!bytes.empty())
        if (auto parsed = loader::CoreTarget::parse(bytes)) target = std::move(*parsed);
    }
    if (target) kernel_types_ = std::make_shared<const KernelBtfTypes>(std::move(target));
  }
  return kernel_types_.get();
}

const ProgramSource* Object::Impl::find(std::string_view name) const {
  for (const auto& p : programs)
    if (p.name == name) return &p;
  return nullptr;
}

Object::Object(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Object::Object(Object&&) noexcept = default;
Object& Object::operator=(Object&&) noexcept = default;
Object::~Object() = default;

std::vector<ProgramInfo> Object::programs() const {
  std::vector<ProgramInfo> out;
  for (const auto& p : impl_->programs)
    out.push_back(ProgramInfo{p.name, p.section, p.type.name, p.program.size(), p.autoload});
  return out;
}

std::vector<Map> Object::maps() const {
  std::vector<Map> out;
  for (auto* m : impl_->map_list)
    if (m != nullptr) out.push_back(Map(m));
  return out;
}

std::optional<Map> Object::map(std::string_view name) const {
  for (std::size_t i = 0; i < impl_->map_list.size(); ++i)
    if (impl_->map_names[i] == name && impl_->map_list[i] != nullptr) return Map(impl_->map_list[i]);
  return std::nullopt;
}

Result<Program> Object::load(std::string_view program_name, const ProgramOptions& options) const {
  if (impl_->elf && impl_->map_defs.size() != impl_->elf->maps.size())
    return make_error(Errc::InvalidArgument, "the object was opened without its maps (LoadOptions::create_maps is false)");
  const auto* source = impl_->find(program_name);
  if (source == nullptr) {
    std::string names;
    for (const auto& p : impl_->programs) names += (names.empty() ? "" : ", ") + p.name;
    return make_error(Errc::InvalidArgument, "no program '" + std::string(program_name) + "' (have: " + names + ")");
  }
  if (auto missing = uncreated_map_used(*impl_, source->program); !missing.empty())
    return make_error(Errc::InvalidArgument, "program '" + source->name + "' uses map '" + missing + "'" +
                                                 ", a map-in-map whose definition names no inner map template; name one "
                                                 "(LoadOptions::inner_map_templates, bpfvm --inner-map " + missing + "=MAP)");
  auto prepared = prepare_program(impl_, *source, options);
  if (!prepared) return std::move(prepared).error();

  // prog_array initialisers: prepare every program they name for this program's engine (a tail call
  // stays in the engine it started in) and point the slots at them.
  if (impl_->elf && !impl_->verify_only) {
    std::lock_guard lock(impl_->tail_targets_mutex);
    impl_->tail_targets[impl_->index_of(source)].adopt(**prepared);
    for (std::size_t m = 0; m < impl_->elf->maps.size(); ++m) {
      for (const auto& slot : impl_->elf->maps[m].initial_slots) {
        if (slot.target != loader::MapSlotInit::Target::Program) continue;
        auto& target = impl_->tail_targets[slot.index];
        if (!target.ready_for(options)) {
          // A target whose section names no type ("7/0", iproute2's tail-call sections) takes the
          // caller's, as tc loads every program of an object as one type.
          const auto& target_source = impl_->programs.at(slot.index);
          ProgramOptions target_options = options;
          if (!target_options.type && target_source.type.kernel_type == 0 && target_source.spec != nullptr)
            target_options.type = (*prepared)->type;
          auto t = prepare_program(impl_, target_source, target_options);
          if (!t) return make_error(t.error().code, "tail-call target '" + impl_->programs[slot.index].name +
                                                        "': " + t.error().message());
          target.adopt(**t);
        }
        auto* progs = static_cast<maps::ProgArrayMap*>(impl_->map_list[m]);
        progs->set_program(slot.slot, maps::ProgramRef{&target.slot, slot.index + 1});
      }
    }
  }
  return Program(std::move(*prepared));
}

std::string Object::report(bool json) const {
  if (impl_->elf) return json ? loader::object_report_json(*impl_->elf) : loader::object_report_text(*impl_->elf);
  std::string out;
  for (const auto& p : impl_->programs) {
    if (json) {
      out += "{\"programs\": [{\"name\": \"" + p.name + "\", \"type\": \"" + p.type.name +
             "\", \"insns\": " + std::to_string(p.program.size()) + "}], \"maps\": []}\n";
    } else {
      out += "program " + p.name + ": type " + p.type.name + ", " + std::to_string(p.program.size()) + " insns\n";
    }
  }
  return out;
}

Result<std::string> Object::disassemble(std::string_view program_name, bool assembly) const {
  const auto* source = impl_->find(program_name);
  if (source == nullptr) return make_error(Errc::InvalidArgument, "no program '" + std::string(program_name) + "'");
  if (assembly) return vm::disassemble(source->program, vm::DisasmStyle::Assembly);
  if (source->spec == nullptr) return vm::disassemble(source->program, vm::DisasmStyle::Listing);
  return loader::disassemble_with_source(*source->spec, [](const vm::Program& p, std::size_t pc) {
    return vm::disassemble_insn(p, pc);
  });
}

}  // namespace bpfvm

namespace bpfvm {

Result<std::string> Object::control_flow_dot(std::string_view program_name) const {
  const auto* source = impl_->find(program_name);
  if (source == nullptr) return make_error(Errc::InvalidArgument, "no program '" + std::string(program_name) + "'");
  return verifier::cfg_to_dot(source->program);
}

}  // namespace bpfvm
