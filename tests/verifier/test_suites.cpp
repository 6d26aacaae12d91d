// Data-driven suites: must-reject (tests/verifier/reject), must-accept (tests/verifier/accept), and
// the conformance suite with the plain program type.
#include <catch2/catch.hpp>

#include <cstring>
#include <iostream>

#include "tests/verifier/soundness_run.hpp"
#include "tests/verifier/verifier_test_support.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"

using namespace bpfvm;
using namespace bpfvm::verifier;

namespace {

const std::filesystem::path kSuiteDir = std::filesystem::path(BPFVM_SOURCE_DIR) / "tests" / "verifier";

struct Outcome {
  bool decoded = false;
  Result<VerifiedProgram> verdict = make_error(Errc::Internal, "not run");
  std::string message;  // decode or verifier message
};

Outcome verify_file(const std::filesystem::path& path, const vm::DataFile& file, const vm::HelperRegistry& helpers) {
  Outcome o;
  auto insns = vm::program_of(file);
  REQUIRE(insns.has_value());
  auto program = vm::decode_program(std::move(insns).value(), path.filename().string());
  if (!program) {
    o.message = program.error().message();
    o.verdict = program.error();
    return o;
  }
  o.decoded = true;
  auto opts = test::options_for(path, static_cast<std::uint32_t>(file.mem.size()), helpers);
  o.verdict = verify(*program, opts);
  if (!o.verdict) o.message = o.verdict.error().message();
  return o;
}

}  // namespace

TEST_CASE("must-reject suite: every file is refused with its expected message") {
  const auto helpers = test::kernel_like_helpers();
  const auto files = test::data_files(kSuiteDir / "reject");
  REQUIRE(files.size() >= 20);
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto file = vm::read_data_file(path);
    REQUIRE(file.has_value());
    REQUIRE(file->error.has_value());
    const auto o = verify_file(path, *file, helpers);
    INFO(o.message);
    CHECK_FALSE(o.verdict.has_value());
    if (!o.verdict.has_value()) {
      CHECK(o.message.find(*file->error) != std::string::npos);
    }
  }
}

TEST_CASE("must-accept suite: every file is accepted, and plain programs without maps run safely in checked mode") {
  const auto helpers = test::kernel_like_helpers();
  const auto files = test::data_files(kSuiteDir / "accept");
  REQUIRE(files.size() >= 5);
  std::size_t ran = 0;
  std::string not_run;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    INFO(name);
    auto file = vm::read_data_file(path);
    REQUIRE(file.has_value());
    const auto o = verify_file(path, *file, helpers);
    INFO(o.message);
    CHECK(o.verdict.has_value());
    if (!o.verdict) continue;
    // Programs of a kernel type need its context, and map users their maps (tests/verifier's suite
    // maps are descriptions only): those are run by the kernel-verdict and runtime tests, not here.
    if (name.rfind("plain-", 0) != 0 || !vm::Interpreter::create(o.verdict->program(), helpers)) {
      not_run += " " + name;
      continue;
    }
    ++ran;
    const auto fault = test::run_accepted(*o.verdict, helpers, static_cast<std::uint32_t>(file->mem.size()), 1);
    INFO((fault ? *fault : std::string()));
    CHECK_FALSE(fault.has_value());
  }
  std::cout << "must-accept suite: " << ran << " of " << files.size() << " run in checked mode; not run:" << not_run << "\n";
  CHECK(ran >= 10);
}

TEST_CASE("conformance suite: accepted programs run in checked mode and match their result") {
  const auto helpers = test::kernel_like_helpers();
  const auto files = test::data_files(std::filesystem::path(BPFVM_CONFORMANCE_DIR) / "tests");
  REQUIRE(files.size() == 313);
  std::size_t accepted = 0, decoded = 0;
  std::string refused;
  for (const auto& path : files) {
    INFO(path.filename().string());
    auto file = vm::read_data_file(path);
    REQUIRE(file.has_value());
    auto o = verify_file(path, *file, helpers);
    if (!o.decoded) continue;
    ++decoded;
    if (!o.verdict) {
      refused += "  " + path.filename().string() + ": " + o.message + "\n";
      continue;
    }
    ++accepted;
    // An accepted program must run without a memory fault and give the expected r0.
    auto interp = vm::Interpreter::create(o.verdict->program(), helpers);
    REQUIRE(interp.has_value());
    std::vector<std::uint8_t> mem = file->mem;
    vm::RunContext ctx;
    ctx.regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(mem.data()), mem.size(), true, "mem"});
    const std::uint64_t args[] = {reinterpret_cast<std::uintptr_t>(mem.data()), mem.size()};
    auto r = interp->run(ctx, args, vm::ExecOptions{1'000'000, true});
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r.has_value());
    if (file->result) CHECK(r->r0 == *file->result);
  }
  std::cout << "verifier conformance: " << accepted << " of " << files.size() << " accepted (" << decoded
            << " decode) with the plain program type\n" << refused;
  CHECK(accepted >= 300);
}
