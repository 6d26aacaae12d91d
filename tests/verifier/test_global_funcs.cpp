// Global functions in clang-built programs (tests/verifier/programs/*.bpf.c): each source names its
// verdict (`// verdict: accept|reject`) and, for a rejection, a part of the message (`// error: ...`)
// in its first lines; the object is opened and its one program loaded through the public API, so
// the global functions come from the object's BTF as they do for users.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "bpfvm/bpfvm.hpp"

namespace {

const std::filesystem::path kSources = std::filesystem::path(BPFVM_SOURCE_DIR) / "tests" / "verifier" / "programs";
const std::filesystem::path kObjects = BPFVM_VERIFIER_PROGRAMS_DIR;

struct Expectation {
  bool accept = false;
  bool has_verdict = false;
  std::string error;
};

Expectation expectation_of(const std::filesystem::path& source) {
  Expectation e;
  std::ifstream in(source);
  std::string line;
  while (std::getline(in, line) && line.starts_with("//")) {
    if (line.starts_with("// verdict: ")) {
      e.has_verdict = true;
      e.accept = line.substr(12) == "accept";
    } else if (line.starts_with("// error: ")) {
      e.error = line.substr(10);
    }
  }
  return e;
}

}  // namespace

TEST_CASE("global functions: clang-built programs get the verdict their source names") {
  std::vector<std::filesystem::path> sources;
  for (const auto& e : std::filesystem::directory_iterator(kSources))
    if (e.path().string().ends_with(".bpf.c")) sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  REQUIRE(sources.size() >= 8);
  bpfvm::Vm vm;
  // Programs reading kernel structs (CO-RE, bpf_get_current_task_btf, tp_btf) resolve against the
  // running kernel's BTF, as libbpf does.
  bpfvm::LoadOptions options;
  if (std::ifstream in{"/sys/kernel/btf/vmlinux", std::ios::binary})
    options.target_btf.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  int accepted = 0, rejected = 0;
  for (const auto& source : sources) {
    const std::string name = source.filename().string();
    INFO(name);
    const Expectation want = expectation_of(source);
    REQUIRE(want.has_verdict);
    const auto object_path = kObjects / (name.substr(0, name.size() - 2) + ".o");
    if (options.target_btf.empty() && (name.starts_with("btf_") || name.starts_with("tp_btf_"))) {
      WARN(name << ": skipped, no /sys/kernel/btf/vmlinux");
      continue;
    }
    auto object = vm.open_elf_file(object_path.string(), options);
    INFO((object ? std::string() : object.error().message()));
    REQUIRE(object.has_value());
    const auto programs = object->programs();
    REQUIRE(programs.size() == 1);
    auto program = object->load(programs[0].name);
    INFO((program ? std::string("accepted") : program.error().message()));
    CHECK(program.has_value() == want.accept);
    if (!program) {
      CHECK(program.error().code == bpfvm::Errc::Rejected);
      CHECK(program.error().message().find(want.error) != std::string::npos);
      ++rejected;
    } else {
      ++accepted;
    }
  }
  std::cout << "global function programs: " << accepted << " accepted, " << rejected << " rejected as expected\n";
}

TEST_CASE("tp_btf: a program given a kernel object argument verifies, and run() refuses it in one line") {
  std::ifstream in{"/sys/kernel/btf/vmlinux", std::ios::binary};
  if (!in) {
    WARN("skipped: no /sys/kernel/btf/vmlinux");
    return;
  }
  bpfvm::LoadOptions options;
  options.target_btf.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  bpfvm::Vm vm;
  auto object = vm.open_elf_file((kObjects / "tp_btf_sched_switch.bpf.o").string(), options);
  REQUIRE(object.has_value());
  auto program = object->load("tp_btf_sched_switch");
  INFO((program ? std::string() : program.error().message()));
  REQUIRE(program.has_value());
  auto ran = program->run(bpfvm::RunInput{});
  REQUIRE_FALSE(ran.has_value());
  CHECK(ran.error().code == bpfvm::Errc::Unsupported);
  CHECK(ran.error().message().find("argument 1 of its attach target is a kernel object pointer") != std::string::npos);
}

// LoadOptions::target_btf is parsed only where needed: an object without CO-RE relocations opens
// whatever the bytes are; a tp_btf program, which needs kernel struct layouts, reads them from that
// target and never silently from the running kernel's instead.
TEST_CASE("target_btf: parsed only where needed, and never replaced by the running kernel's") {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    WARN("skipped: no /sys/kernel/btf/vmlinux");
    return;
  }
  bpfvm::LoadOptions options;
  options.target_btf.assign(64, 0xee);  // not BTF
  bpfvm::Vm vm;
  auto object = vm.open_elf_file((kObjects / "tp_btf_sched_switch.bpf.o").string(), options);
  INFO((object ? std::string() : object.error().message()));
  REQUIRE(object.has_value());
  auto program = object->load("tp_btf_sched_switch");
  REQUIRE_FALSE(program.has_value());
  CHECK(program.error().message().find("need the kernel's BTF") != std::string::npos);
}

namespace {

std::vector<std::uint8_t> kernel_btf() {
  std::ifstream in{"/sys/kernel/btf/vmlinux", std::ios::binary};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("__ksym: a typed one verifies against the kernel's BTF, and run() refuses it naming the symbol") {
  bpfvm::LoadOptions options;
  options.target_btf = kernel_btf();
  if (options.target_btf.empty()) {
    WARN("skipped: no /sys/kernel/btf/vmlinux");
    return;
  }
  bpfvm::Vm vm;
  auto object = vm.open_elf_file((kObjects / "ksym_this_cpu_runqueues.bpf.o").string(), options);
  REQUIRE(object.has_value());
  CHECK(object->report(false).find("ksym runqueues") != std::string::npos);
  auto program = object->load("ksym_this_cpu_runqueues");
  INFO((program ? std::string() : program.error().message()));
  REQUIRE(program.has_value());
  auto ran = program->run(bpfvm::RunInput{});
  REQUIRE_FALSE(ran.has_value());
  CHECK(ran.error().code == bpfvm::Errc::Unsupported);
  CHECK(ran.error().message().find("reads kernel variable 'runqueues' at insn 0") != std::string::npos);

  // Without the kernel's BTF a typed __ksym stays unresolved: only the program using it is refused.
  bpfvm::LoadOptions no_target;
  no_target.core_without_target = true;
  auto no_btf = vm.open_elf_file((kObjects / "ksym_this_cpu_runqueues.bpf.o").string(), no_target);
  REQUIRE(no_btf.has_value());
  auto refused = no_btf->load("ksym_this_cpu_runqueues");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("a typed __ksym needs the kernel's BTF") != std::string::npos);
}

TEST_CASE("__ksym: an untyped one loads its kernel address as a constant, and the program runs") {
  bpfvm::Vm vm;
  const auto path = (kObjects / "ksym_untyped_address.bpf.o").string();
  bpfvm::LoadOptions options;
  std::string asked;
  options.kernel_symbol_address = [&asked](const std::string& name) -> std::optional<std::uint64_t> {
    asked = name;
    return 0xffffffff81000000ull;
  };
  auto object = vm.open_elf_file(path, options);
  REQUIRE(object.has_value());
  CHECK(asked == "schedule");
  CHECK(object->report(false).find("ksym_addr schedule = -2130706432") != std::string::npos);
  auto program = object->load("ksym_untyped_address");
  INFO((program ? std::string() : program.error().message()));
  REQUIRE(program.has_value());
  // bpf_probe_read_kernel of a kernel address from a userspace process: -EFAULT, as for any address
  // the process cannot read.
  auto ran = program->run(bpfvm::RunInput{});
  INFO((ran ? std::string() : ran.error().message()));
  REQUIRE(ran.has_value());
  CHECK(static_cast<std::int64_t>(ran->r0) == -14);

  // No address (the hook gives none): the program using it is refused in one line.
  options.kernel_symbol_address = [](const std::string&) -> std::optional<std::uint64_t> { return std::nullopt; };
  auto unresolved = vm.open_elf_file(path, options);
  REQUIRE(unresolved.has_value());
  auto refused = unresolved->load("ksym_untyped_address");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message().find("extern ksym 'schedule' (no kernel address for it") != std::string::npos);

  // Default: /proc/kallsyms, where this process can read it (libbpf's source for untyped ksyms).
  if (std::ifstream kallsyms{"/proc/kallsyms"}) {
    auto from_kallsyms = vm.open_elf_file(path);
    REQUIRE(from_kallsyms.has_value());
    CHECK(from_kallsyms->load("ksym_untyped_address").has_value());
  }
}
