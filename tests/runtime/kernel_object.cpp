// KernelObject: a loader::Object created in the kernel with raw bpf() (no libbpf).
#include "tests/runtime/kernel_object.hpp"

#include <linux/btf.h>

#include <cstring>

#include "vm/isa.hpp"

namespace bpfvm::testing {

namespace {

template <class T>
std::span<const std::uint8_t> bytes_of(const T& v) {
  return {reinterpret_cast<const std::uint8_t*>(&v), sizeof v};
}

// resize + memcpy rather than insert(): GCC 12 warns falsely (-Wstringop-overflow) on the latter.
void append_bytes(std::vector<std::uint8_t>& out, const void* data, std::size_t size) {
  const std::size_t at = out.size();
  out.resize(at + size);
  std::memcpy(out.data() + at, data, size);
}

template <class T>
void append(std::vector<std::uint8_t>& out, const T& v) {
  append_bytes(out, &v, sizeof v);
}

// The kernel needs BTF func info for BPF_PSEUDO_FUNC loads, and for LD_ABS/LD_IND in a program
// with subprograms ("LD_ABS is not allowed in subprogs without BTF").
bool needs_func_info(const vm::Program& program) {
  bool local_calls = false, packet_loads = false;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto form = program.op(pc).form;
    if (form == isa::Form::WideImm && program.insns[pc].src == static_cast<std::uint8_t>(isa::LddwSrc::Func))
      return true;
    local_calls |= form == isa::Form::CallLocal;
    packet_loads |= form == isa::Form::PacketLoad;
  }
  return local_calls && packet_loads;
}

}  // namespace

Result<std::vector<vm::Insn>> patch_map_references(const vm::Program& program, std::span<const int> map_fds) {
  std::vector<vm::Insn> insns = program.insns;
  for (std::size_t pc = 0; pc + 1 < insns.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp || program.op(pc).form != isa::Form::WideImm) continue;
    auto& insn = insns[pc];
    const auto src = static_cast<isa::LddwSrc>(insn.src);
    if (src != isa::LddwSrc::MapIdx && src != isa::LddwSrc::MapIdxValue) continue;
    const auto index = static_cast<std::uint32_t>(insn.imm);
    if (index >= map_fds.size() || map_fds[index] < 0)
      return make_error(Errc::InvalidArgument,
                        "pc " + std::to_string(pc) + ": map index " + std::to_string(index) + " has no fd");
    insn.src = static_cast<std::uint8_t>(src == isa::LddwSrc::MapIdx ? isa::LddwSrc::MapFd : isa::LddwSrc::MapValue);
    insn.imm = map_fds[index];
    ++pc;  // the second slot keeps the value offset
  }
  return insns;
}

std::vector<std::uint8_t> func_info_btf(std::span<const loader::FuncInfo> funcs,
                                        std::vector<bpf_func_info>& records_out) {
  std::string strings(1, '\0');
  auto add_string = [&](std::string_view s) {
    const auto off = static_cast<std::uint32_t>(strings.size());
    strings.append(s);
    strings.push_back('\0');
    return off;
  };
  std::vector<std::uint8_t> types;
  // [1] int
  append(types, btf_type{add_string("int"), btf_info(BTF_KIND_INT, 0), {4}});
  append(types, std::uint32_t{btf_int_encoding(BTF_INT_SIGNED, 0, 32)});
  // [2] int (void)
  append(types, btf_type{0, btf_info(BTF_KIND_FUNC_PROTO, 0), {1}});
  records_out.clear();
  std::uint32_t next_id = 3;
  for (std::size_t i = 0; i < funcs.size(); ++i) {
    const std::string name = funcs[i].name.empty() ? "f" + std::to_string(i) : std::string(funcs[i].name);
    const std::uint32_t linkage = i == 0 ? BTF_FUNC_GLOBAL : BTF_FUNC_STATIC;
    append(types, btf_type{add_string(name), btf_info(BTF_KIND_FUNC, linkage), {2}});
    records_out.push_back({funcs[i].insn, next_id++});
  }
  btf_header hdr{};
  hdr.magic = BTF_MAGIC;
  hdr.version = BTF_VERSION;
  hdr.hdr_len = sizeof(hdr);
  hdr.type_off = 0;
  hdr.type_len = static_cast<std::uint32_t>(types.size());
  hdr.str_off = hdr.type_len;
  hdr.str_len = static_cast<std::uint32_t>(strings.size());
  std::vector<std::uint8_t> out;
  append(out, hdr);
  append_bytes(out, types.data(), types.size());
  append_bytes(out, strings.data(), strings.size());
  return out;
}

Result<KernelObject> KernelObject::load(const loader::Object& object, std::string* verifier_log) {
  KernelObject k;
  k.specs_ = object.maps;
  for (const auto& spec : object.maps) {
    if (spec.inner)
      return make_error(Errc::Unsupported, "map " + spec.name + ": map-in-map is not supported by KernelObject");
    Fd fd;
    const MapSpec ks{static_cast<bpf_map_type>(spec.type), spec.key_size, spec.value_size, spec.max_entries,
                     spec.map_flags, spec.spin_lock_off};
    if (int err = map_create(ks, fd); err < 0)
      return make_error(Errc::Io, "map " + spec.name + ": BPF_MAP_CREATE: errno " + std::to_string(-err));
    if (!spec.initial_value.empty()) {
      const std::uint32_t key = 0;
      std::vector<std::uint8_t> value = spec.initial_value;
      value.resize(spec.value_size, 0);
      if (int err = map_update(fd, bytes_of(key), value); err < 0)
        return make_error(Errc::Io, "map " + spec.name + ": initial value: errno " + std::to_string(-err));
    }
    if (spec.frozen)
      if (int err = map_freeze(fd); err < 0)
        return make_error(Errc::Io, "map " + spec.name + ": BPF_MAP_FREEZE: errno " + std::to_string(-err));
    k.maps_.push_back(std::move(fd));
  }
  std::vector<int> fds;
  for (const auto& fd : k.maps_) fds.push_back(fd.get());

  for (const auto& prog : object.programs) {
    k.program_names_.push_back(prog.name);
    k.programs_.emplace_back();
    if (!prog.autoload) continue;
    auto insns = patch_map_references(prog.program, fds);
    if (!insns) return make_error(insns.error().code, "program " + prog.name + ": " + insns.error().reason);
    ProgramLoadOptions options;
    options.expected_attach_type = prog.expected_attach_type;
    options.prog_flags = prog.prog_flags;
    options.name = prog.name;
    Fd btf;
    if (needs_func_info(prog.program)) {
      const auto blob = func_info_btf(prog.func_info, options.func_info);
      auto loaded = load_btf(blob);
      if (!loaded) return make_error(loaded.error().code, "program " + prog.name + ": " + loaded.error().reason);
      btf = std::move(*loaded);
      options.btf_fd = btf.get();
    }
    auto fd = load_program_with(static_cast<bpf_prog_type>(prog.prog_type), *insns, options, verifier_log);
    if (!fd) return make_error(fd.error().code, "program " + prog.name + ": " + fd.error().reason);
    k.programs_.back() = std::move(*fd);
  }

  for (std::size_t m = 0; m < object.maps.size(); ++m) {
    for (const auto& slot : object.maps[m].initial_slots) {
      if (slot.target != loader::MapSlotInit::Target::Program || slot.index >= k.programs_.size() ||
          !k.programs_[slot.index].valid())
        return make_error(Errc::InvalidArgument, "map " + object.maps[m].name + ": slot " +
                                                     std::to_string(slot.slot) + " names no loaded program");
      const std::uint32_t key = slot.slot;
      const std::uint32_t value = static_cast<std::uint32_t>(k.programs_[slot.index].get());
      if (int err = map_update(k.maps_[m], bytes_of(key), bytes_of(value)); err < 0)
        return make_error(Errc::Io, "map " + object.maps[m].name + ": slot " + std::to_string(slot.slot) +
                                        ": errno " + std::to_string(-err));
    }
  }
  return k;
}

const Fd* KernelObject::map(std::string_view name) const {
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (specs_[i].name == name) return &maps_[i];
  return nullptr;
}

const loader::MapSpec* KernelObject::map_spec(std::string_view name) const {
  for (const auto& spec : specs_)
    if (spec.name == name) return &spec;
  return nullptr;
}

const Fd* KernelObject::program(std::string_view name) const {
  for (std::size_t i = 0; i < program_names_.size(); ++i)
    if (program_names_[i] == name && programs_[i].valid()) return &programs_[i];
  return nullptr;
}

}  // namespace bpfvm::testing
