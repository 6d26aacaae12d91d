// Loads through a map pointer against the running kernel (issue #15; the kernel's
// check_ptr_to_map_access): tests/verifier/programs/map_ptr_fields.bpf.c reads struct bpf_array's
// fields by their BTF offsets into its `results` map; after a run in bpfvm (interpreter and JIT) the
// map must hold what it holds after the kernel's test run. Unprivileged loads are refused, as the
// kernel refuses them.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "bpfvm/bpfvm.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "loader/object.hpp"
#include "tests/runtime/kernel_object.hpp"

using namespace bpfvm;

namespace {

const std::string kObject = std::string(BPFVM_VERIFIER_PROGRAMS_DIR) + "/map_ptr_fields.bpf.o";
// The object's CO-RE relocations resolve against the running kernel's BTF, as libbpf's do.
LoadOptions with_kernel_btf() {
  LoadOptions options;
  options.target_btf = testing::read_file_bytes("/sys/kernel/btf/vmlinux");
  return options;
}

}  // namespace

TEST_CASE("map pointer loads read what the kernel's struct bpf_array holds there") {
  std::string log;
  const auto vmlinux = testing::read_file_bytes("/sys/kernel/btf/vmlinux");
  loader::LoadOptions kernel_options;
  kernel_options.target_btf = vmlinux;
  auto kernel = testing::KernelObject::load_elf(testing::read_file_bytes(kObject), kernel_options, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  Vm vm;
  auto object = vm.open_elf_file(kObject, with_kernel_btf());
  INFO((object ? std::string() : object.error().message()));
  REQUIRE(object.has_value());
  const std::vector<std::uint8_t> packet(64, 0);
  const testing::Fd* fd = kernel->program("map_ptr_fields");
  const testing::Fd* results = kernel->map("results");
  REQUIRE((fd != nullptr && results != nullptr));
  auto ran = testing::test_run(*fd, packet);
  REQUIRE(ran.has_value());
  CHECK(ran->retval == 1);
  const std::vector<std::uint8_t> key(4, 0);
  std::vector<std::uint8_t> expected(32);
  REQUIRE(testing::map_lookup(*results, key, expected) == 0);
  for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
    INFO("engine " << static_cast<int>(engine));
    ProgramOptions options;
    options.engine = engine;
    auto program = object->load("map_ptr_fields", options);
    INFO("bpfvm: " << (program ? std::string("loaded") : program.error().message()));
    REQUIRE(program.has_value());
    auto out = program->run(packet);
    REQUIRE(out.has_value());
    CHECK(out->retval == 1);
    auto map = object->map("results");
    REQUIRE(map.has_value());
    std::vector<std::uint8_t> got(32);
    REQUIRE(map->lookup(key, got) == 0);
    CHECK(got == expected);  // map_type, key_size, value_size, max_entries, map_flags, elem_size, sha == 0
  }
}

TEST_CASE("map pointer loads are refused to unprivileged programs") {
  Vm vm;
  auto object = vm.open_elf_file(kObject, with_kernel_btf());
  INFO((object ? std::string() : object.error().message()));
  REQUIRE(object.has_value());
  ProgramOptions options;
  options.unprivileged = true;
  auto program = object->load("map_ptr_fields", options);
  REQUIRE_FALSE(program.has_value());
  CHECK(program.error().message().find("map_ptr access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN") !=
        std::string::npos);
}
