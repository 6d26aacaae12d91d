// KernelObject: a loader::Object created in the kernel with raw bpf() (no libbpf).
#include "tests/runtime/kernel_object.hpp"

#include <linux/btf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

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

std::uint32_t append_string(std::string& strings, std::string_view s) {
  const auto off = static_cast<std::uint32_t>(strings.size());
  strings.append(s);
  strings.push_back('\0');
  return off;
}

// A BTF blob: header, type section, string section.
std::vector<std::uint8_t> btf_blob(const std::vector<std::uint8_t>& types, const std::string& strings) {
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
  auto add_string = [&](std::string_view s) { return append_string(strings, s); };
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
  return btf_blob(types, strings);
}

namespace {

// Emits the types a prototype names (see prototype_btf), each object type once.
class PrototypeTypes {
 public:
  PrototypeTypes(const loader::Btf& btf, std::vector<std::uint8_t>& types, std::string& strings)
      : btf_(btf), types_(types), strings_(strings) {}

  std::uint32_t emit(const btf_type& t) {
    append(types_, t);
    return next_id_++;
  }
  std::uint32_t add_string(std::string_view s) { return s.empty() ? 0 : append_string(strings_, s); }

  std::uint32_t type(std::uint32_t object_id) {
    const std::uint32_t id = btf_.skip_mods_and_typedefs(object_id);
    if (id == 0) return 0;
    if (const auto it = done_.find(id); it != done_.end()) return it->second;
    std::uint32_t out = 0;
    const std::uint32_t name = add_string(btf_.name(id));
    switch (btf_.kind(id)) {
      case loader::BtfKind::Int:
        out = emit(btf_type{name, btf_info(BTF_KIND_INT, 0), {btf_.size_or_type(id)}});
        append(types_, std::uint32_t{(btf_.int_encoding(id) << 24) | (btf_.int_offset(id) << 16) | btf_.int_bits(id)});
        break;
      case loader::BtfKind::Enum: case loader::BtfKind::Enum64: {
        const std::uint32_t size = btf_.size_or_type(id);
        out = emit(btf_type{add_string("enum_as_int"), btf_info(BTF_KIND_INT, 0), {size}});
        append(types_, std::uint32_t{size * 8});
        break;
      }
      case loader::BtfKind::Ptr: {
        const std::uint32_t to = type(btf_.size_or_type(id));
        out = emit(btf_type{0, btf_info(BTF_KIND_PTR, 0), {to}});
        break;
      }
      case loader::BtfKind::Array: {
        const auto a = btf_.array(id);
        const std::uint32_t elem = type(a.type);
        const std::uint32_t index = emit(btf_type{add_string("array_index"), btf_info(BTF_KIND_INT, 0), {4}});
        append(types_, std::uint32_t{32});
        out = emit(btf_type{0, btf_info(BTF_KIND_ARRAY, 0), {0}});
        append(types_, btf_array{elem, index, a.nelems});
        break;
      }
      case loader::BtfKind::Struct: case loader::BtfKind::Union: {
        const std::uint32_t kind = btf_.kind(id) == loader::BtfKind::Struct ? BTF_KIND_STRUCT : BTF_KIND_UNION;
        out = emit(btf_type{name, btf_info(kind, 0), {btf_.size_or_type(id)}});
        break;
      }
      default:  // FWD, and anything a prototype cannot describe by size
        out = emit(btf_type{name ? name : add_string("unsized"),
                            btf_info(BTF_KIND_FWD, 0) | (btf_.kflag(id) ? 1u << 31 : 0u), {0}});
        break;
    }
    done_.emplace(id, out);
    return out;
  }

 private:
  const loader::Btf& btf_;
  std::vector<std::uint8_t>& types_;
  std::string& strings_;
  std::map<std::uint32_t, std::uint32_t> done_;  // object type id -> emitted id
  std::uint32_t next_id_ = 1;
};

}  // namespace

std::vector<std::uint8_t> prototype_btf(const loader::Btf& btf, std::span<const loader::FuncInfo> funcs,
                                        std::vector<bpf_func_info>& records_out) {
  std::vector<std::uint8_t> types;
  std::string strings(1, '\0');
  PrototypeTypes emitter(btf, types, strings);
  records_out.clear();
  for (const auto& f : funcs) {
    const std::uint32_t proto = btf.size_or_type(f.type_id);
    const std::uint16_t nargs = btf.vlen(proto);
    std::vector<btf_param> params;
    for (std::uint16_t i = 0; i < nargs; ++i) {
      const auto p = btf.param(proto, i);
      params.push_back({emitter.add_string(btf.string_at(p.name_off)), emitter.type(p.type)});
    }
    const std::uint32_t ret = emitter.type(btf.size_or_type(proto));
    const std::uint32_t proto_id = emitter.emit(btf_type{0, btf_info(BTF_KIND_FUNC_PROTO, nargs), {ret}});
    for (const auto& p : params) append(types, p);
    const std::uint32_t func_id =
        emitter.emit(btf_type{emitter.add_string(f.name), btf_info(BTF_KIND_FUNC, btf.vlen(f.type_id)), {proto_id}});
    records_out.push_back({f.insn, func_id});
  }
  return btf_blob(types, strings);
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Result<KernelObject> KernelObject::load_file(const std::string& path, std::string* verifier_log) {
  const auto elf = read_file_bytes(path);
  if (elf.empty()) return make_error(Errc::Io, path + ": cannot read the object file");
  auto object = loader::load_object(elf, {});
  if (!object) return make_error(object.error().code, path + ": " + object.error().message());
  return load(*object, verifier_log);
}

Result<KernelObject> KernelObject::load_elf(std::span<const std::uint8_t> elf, const loader::LoadOptions& options,
                                            std::string* verifier_log) {
  auto object = loader::load_object(elf, options);
  if (!object) return std::move(object).error();
  return load(*object, verifier_log);
}

Result<KernelObject> KernelObject::load(const loader::Object& object, std::string* verifier_log) {
  KernelObject k;
  k.specs_ = object.maps;
  for (const auto& spec : object.maps) {
    if (spec.inner)
      return make_error(Errc::Unsupported, "map " + spec.name + ": map-in-map is not supported by KernelObject");
    Fd fd;
    const MapSpec ks{spec.type, spec.key_size, spec.value_size, spec.max_entries,
                     spec.map_flags, spec.spin_lock_off, spec.timer_off};
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
