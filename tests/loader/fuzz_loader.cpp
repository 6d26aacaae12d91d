// libFuzzer harness for load_object(): any input must yield an object or one Error, never a crash.
// Build with -DBPFVM_FUZZ=ON and clang; seed corpus: the example objects in BPFVM_EXAMPLES_DIR and the
// legacy-style objects (tests/loader/legacy, built into build/tests/loader/legacy).
//   fuzz_loader -max_len=65536 corpus/ ${BPFVM_EXAMPLES_DIR}
#include <cstddef>
#include <cstdint>
#include <span>

#include "loader/object.hpp"

namespace {

// A small fixed target BTF (struct task_struct { int pid; int tgid; }) so CO-RE paths run too.
const std::uint8_t kTargetBtf[] = {
    0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 56, 0, 0, 0, 56, 0, 0, 0, 26, 0, 0, 0,
    // [1] INT 'int' size 4 signed 32 bits
    1, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 32, 0, 0, 1,
    // [2] STRUCT 'task_struct' size 8 vlen 2
    5, 0, 0, 0, 2, 0, 0, 4, 8, 0, 0, 0,
    17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
    21, 0, 0, 0, 1, 0, 0, 0, 32, 0, 0, 0,
    // strings: "", "int", "task_struct", "pid", "tgid"
    0, 'i', 'n', 't', 0, 't', 'a', 's', 'k', '_', 's', 't', 'r', 'u', 'c', 't', 0, 'p', 'i', 'd', 0,
    't', 'g', 'i', 'd', 0};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bpfvm::loader::LoadOptions options;
  options.target_btf = std::span<const std::uint8_t>(kTargetBtf, sizeof kTargetBtf);
  options.kconfig["LINUX_KERNEL_VERSION"] = "393216";
  auto obj = bpfvm::loader::load_object(std::span<const std::uint8_t>(data, size), options);
  if (!obj && obj.error().reason.empty()) __builtin_trap();
  // The objdump path: CO-RE relocations recorded unresolved, with no target BTF.
  bpfvm::loader::LoadOptions report_options;
  report_options.core_without_target = true;
  auto report = bpfvm::loader::load_object(std::span<const std::uint8_t>(data, size), report_options);
  if (!report && report.error().reason.empty()) __builtin_trap();
  return 0;
}
