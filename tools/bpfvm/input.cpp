// Opening CLI program arguments by file type.
#include "tools/bpfvm/input.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string_view>

#include "vm/data_file.hpp"
#include "vm/program.hpp"

namespace bpfvm::tools {

namespace {
constexpr const char* kKernelBtfPath = "/sys/kernel/btf/vmlinux";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string stem(const std::string& path) {
  auto base = path.substr(path.find_last_of('/') + 1);
  if (auto dot = base.find('.'); dot != std::string::npos) base.resize(dot);
  return base.empty() ? "prog" : base;
}

Result<ProgramType> type_for(const InputOptions& options, std::size_t mem_size) {
  if (options.type.empty() || options.type == "plain")
    return ProgramType::plain(static_cast<std::uint32_t>(mem_size));
  return ProgramType::from_section(options.type);
}
}  // namespace

Result<std::vector<std::uint8_t>> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::Io, "cannot open " + path);
  return std::vector<std::uint8_t>{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

namespace {
bool add_assignment(std::map<std::string, std::string, std::less<>>& into, const std::string& assignment,
                    bool empty_value_ok) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0 || (!empty_value_ok && eq + 1 == assignment.size())) return false;
  into[assignment.substr(0, eq)] = assignment.substr(eq + 1);
  return true;
}
}  // namespace

bool add_kconfig(InputOptions& options, const std::string& assignment) {
  return add_assignment(options.kconfig, assignment, true);
}

bool add_inner_map(InputOptions& options, const std::string& assignment) {
  return add_assignment(options.inner_maps, assignment, false);
}

std::map<std::string, std::string, std::less<>> kconfig_with_defaults(const InputOptions& options) {
  auto kconfig = options.kconfig;
  // libbpf fills LINUX_KERNEL_VERSION from uname(2) when the object asks; so does the CLI.
  utsname u{};
  unsigned major = 0, minor = 0, patch = 0;
  const bool known = uname(&u) == 0 && std::sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) >= 2;
  const unsigned version = (major << 16) + (minor << 8) + std::min(patch, 255u);
  if (known) kconfig.try_emplace("LINUX_KERNEL_VERSION", std::to_string(version));
  // libbpf answers two more itself (bpf_object__resolve_externs; libbpf-tools get them through usdt.bpf.h
  // and BPF_KSYSCALL): LINUX_HAS_BPF_COOKIE, whether bpf_get_attach_cookie exists, which bpfvm's runtime
  // has (0: no cookie attached); LINUX_HAS_SYSCALL_WRAPPER, whether syscalls enter through __<arch>_sys_*
  // wrappers taking one struct pt_regs *, as x86-64 kernels do since 4.17 and arm64 since 4.19.
  kconfig.try_emplace("LINUX_HAS_BPF_COOKIE", "1");
  const std::string_view machine = known ? u.machine : "";
  const bool wrapper = (machine == "x86_64" && version >= (4u << 16) + (17u << 8)) ||
                       (machine == "aarch64" && version >= (4u << 16) + (19u << 8));
  kconfig.try_emplace("LINUX_HAS_SYSCALL_WRAPPER", wrapper ? "1" : "0");
  return kconfig;
}

std::string object_name_of(const std::string& path) {
  // As Vm::open_elf_file (and libbpf): the file name up to its first dot.
  auto base = path.substr(path.find_last_of('/') + 1);
  if (auto dot = base.find('.'); dot != std::string::npos) base.resize(dot);
  return base;
}

std::string file_error(const std::string& path, const Error& error) { return path + ": " + error.message(); }

Result<OpenedInput> open_input(const Vm& vm, const std::string& path, const InputOptions& options) {
  if (ends_with(path, ".o")) {
    LoadOptions lo;
    lo.kconfig = kconfig_with_defaults(options);
    lo.create_maps = options.create_maps;
    lo.verify_only = options.verify_only;
    lo.inner_map_templates = options.inner_maps;
    if (!options.btf_path.empty()) {
      auto btf = read_file_bytes(options.btf_path);
      if (!btf) return std::move(btf).error();
      lo.target_btf = std::move(*btf);
    }
    lo.core_without_target = options.core_without_target && lo.target_btf.empty();
    auto object = vm.open_elf_file(path, lo);
    // No --btf: CO-RE relocations resolve against the running kernel's BTF, as libbpf does.
    if (!object && options.btf_path.empty() && !lo.core_without_target && object.error().code == Errc::InvalidArgument &&
        object.error().reason.starts_with("object has CO-RE relocations")) {
      if (auto vmlinux = read_file_bytes(kKernelBtfPath)) {
        std::fprintf(stderr, "bpfvm: CO-RE relocations resolved against %s (no --btf given)\n", kKernelBtfPath);
        lo.target_btf = std::move(*vmlinux);
        object = vm.open_elf_file(path, lo);
      }
    }
    if (!object) return std::move(object).error();
    OpenedInput opened{std::move(*object), options.mem.value_or(std::vector<std::uint8_t>{}), std::nullopt, true, std::nullopt};
    if (!options.type.empty()) {
      auto type = type_for(options, opened.mem.empty() ? 4096 : opened.mem.size());
      if (!type) return std::move(type).error();
      opened.elf_type = std::move(*type);
    }
    return opened;
  }
  auto bytes = read_file_bytes(path);
  if (!bytes) return std::move(bytes).error();
  std::vector<std::uint8_t> mem = options.mem.value_or(std::vector<std::uint8_t>{});
  std::optional<std::uint64_t> expected;
  std::vector<std::uint8_t> code;
  if (ends_with(path, ".bin")) {
    code = std::move(*bytes);
  } else if (ends_with(path, ".data") || ends_with(path, ".s") || ends_with(path, ".asm")) {
    const std::string text(bytes->begin(), bytes->end());
    std::vector<vm::Insn> insns;
    if (ends_with(path, ".data")) {
      auto data = vm::parse_data_file(text);
      if (!data) return std::move(data).error();
      auto program = vm::program_of(*data);
      if (!program) return std::move(program).error();
      insns = std::move(*program);
      if (!options.mem) mem = data->mem;
      expected = data->result;
    } else {
      auto type = type_for(options, mem.size());
      if (!type) return std::move(type).error();
      auto object = vm.open_assembly(text, *type, stem(path));
      if (!object) return std::move(object).error();
      return OpenedInput{std::move(*object), std::move(mem), std::nullopt, false};
    }
    code = vm::encode_program(insns);
  } else {
    return make_error(Errc::InvalidArgument, "unknown program type (expected .o, .s, .bin or .data)");
  }
  auto type = type_for(options, mem.size());
  if (!type) return std::move(type).error();
  auto object = vm.open_bytecode(code, *type, stem(path));
  if (!object) return std::move(object).error();
  return OpenedInput{std::move(*object), std::move(mem), expected, false};
}

Result<std::string> pick_program(const Object& object, const std::string& wanted) {
  const auto programs = object.programs();
  if (!wanted.empty()) return wanted;
  if (programs.size() == 1) return programs[0].name;
  std::string names;
  for (const auto& p : programs) names += (names.empty() ? "" : ", ") + p.name;
  return make_error(Errc::InvalidArgument, "the object has several programs; choose one with --prog (" + names + ")");
}

}  // namespace bpfvm::tools
