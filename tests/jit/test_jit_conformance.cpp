// Every conformance program (shared/conformance/tests/*.data) on every JIT variant, with and
// without constant blinding and with baseline instructions only, must give the expected r0;
// checked runs must also equal the interpreter's instruction count.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include "tests/jit/conformance_files.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "vm/data_file.hpp"

using namespace bpfvm;
using namespace bpfvm::testing;

TEST_CASE("every conformance program passes on the JIT", "[jit][conformance]") {
  const auto files = conformance_files();
  REQUIRE(files.size() >= 313);
  const auto helpers = test_helpers();
  int passed = 0, runs = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    // A file the runner cannot parse is a failure, not a skip.
    const auto [file, program] = read_conformance_program(path);
    REQUIRE(file.result);
    auto interp = vm::Interpreter::create(program, helpers);
    REQUIRE(interp);
    bool all = true;
    // Blinding, and baseline instructions only (no BMI2 shifts), each against the default build.
    for (int config = 0; config < 3; ++config) {
      const bool blind = config == 1;
      jit::JitOptions jo;
      jo.blind_constants = blind;
      jo.baseline_isa_only = config == 2;
      auto jp = jit::JitProgram::compile(program, helpers, {}, jo);
      REQUIRE(jp);
      std::vector<std::uint8_t> buffer(std::max<std::size_t>(file.mem.size(), 1));
      std::vector<std::uint8_t> initial = file.mem;
      initial.resize(buffer.size());
      for (int mode = 0; mode < 3; ++mode) {
        vm::ExecOptions opt;
        opt.checked = mode == 2;
        opt.budget_insns = mode == 1 ? 1'000'000 : 0;
        buffer.resize(file.mem.size());  // the exact mem size, as r2 reports it
        if (buffer.empty()) buffer.resize(0);
        initial.resize(buffer.size());
        const auto got = run_engine(*jp, buffer, initial, opt);
        ++runs;
        INFO("variant " << mode << " config " << config << ": " << got.describe());
        CHECK(got.ok);
        CHECK(got.r0 == *file.result);
        all = all && got.ok && got.r0 == *file.result;
        if (mode != 0) {
          const auto want = run_engine(*interp, buffer, initial, opt);
          CHECK(got == want);
          all = all && got == want;
        }
      }
    }
    if (all) ++passed;
  }
  std::printf("conformance on the JIT: %d/%zu files pass in all 9 configurations (%d runs)\n", passed,
              files.size(), runs);
  CHECK(passed == static_cast<int>(files.size()));
}
