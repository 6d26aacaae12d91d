// Programs prepared for both engines against the real kernel helpers (bpf_tail_call, bpf_loop,
// bpf_for_each_map_elem) and run side by side on identical memory, for parity tests of the hooks
// the engines provide to helpers: tail calls and callbacks into the program.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "helpers/kernel_helpers.hpp"
#include "helpers/runtime.hpp"
#include "jit/jit_program.hpp"
#include "maps/map.hpp"
#include "tests/jit/jit_test_support.hpp"
#include "vm/assembler.hpp"
#include "vm/interpreter.hpp"
#include "vm/tail_call_target.hpp"

namespace bpfvm::testing {

/// The kernel helpers, and the maps the programs name by address (`lddw %rN, <address>`).
class KernelHelperPair {
 public:
  KernelHelperPair() { helpers::register_kernel_helpers(registry_, runtime_); }

  maps::Map& add_map(const maps::MapSpec& spec) {
    auto m = maps::create_map(spec);
    REQUIRE(m.has_value());
    maps_.push_back(std::move(*m));
    return *maps_.back();
  }

  /// `text` with every "{MAP<i>}" replaced by the address of the i-th map added.
  std::string with_maps(std::string text) const {
    for (std::size_t i = 0; i < maps_.size(); ++i) {
      const std::string key = "{MAP" + std::to_string(i) + "}";
      char addr[32];
      std::snprintf(addr, sizeof addr, "0x%llx", static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(maps_[i].get())));
      for (auto at = text.find(key); at != std::string::npos; at = text.find(key)) text.replace(at, key.size(), addr);
    }
    return text;
  }

  /// One program on both engines, plus the prog_array target naming both.
  struct Prepared {
    std::unique_ptr<vm::Interpreter> interpreter;
    std::unique_ptr<jit::JitProgram> jit;
    std::unique_ptr<vm::TailCallTarget> target = std::make_unique<vm::TailCallTarget>();
  };

  /// True: prepare() also builds every variant's optimizing-tier code where the tier takes the
  /// program (runs then use it; tier() tells which ran).
  bool optimize = false;
  /// Called before each engine's run (refills what a run consumes, e.g. a user ring buffer).
  std::function<void()> before_run;

  Prepared& prepare(const std::string& text) {
    auto insns = vm::assemble(with_maps(text));
    INFO(text);
    REQUIRE(insns.has_value());
    auto program = vm::decode_program(*insns, "test");
    REQUIRE(program.has_value());
    auto in = vm::Interpreter::create(*program, registry_);
    REQUIRE(in.has_value());
    auto jp = jit::JitProgram::compile(*program, registry_);
    if (!jp) FAIL(jp.error().message());
    auto& p = programs_.emplace_back(std::make_unique<Prepared>());
    p->interpreter = std::make_unique<vm::Interpreter>(std::move(*in));
    p->jit = std::make_unique<jit::JitProgram>(std::move(*jp));
    if (optimize)
      for (auto variant : {jit::Variant::Fast, jit::Variant::Counted, jit::Variant::Checked})
        if (auto built = p->jit->optimize(variant); !built && built.error().code != Errc::Unsupported)
          FAIL(built.error().message());
    p->target->interpreter = p->interpreter.get();
    p->target->jit = p->jit.get();
    return *p;
  }

  /// Runs `p` on both engines (r1 = a 16-byte buffer, r2 = its length), maps' memory allowed in
  /// checked mode, and requires the same outcome; returns the JIT's.
  Outcome both(const Prepared& p, const vm::ExecOptions& options) const {
    std::vector<std::uint8_t> buffer(16), initial(16, 0);
    const auto a = run(*p.interpreter, buffer, initial, options);
    const auto b = run(*p.jit, buffer, initial, options);
    INFO("interp: " << a.describe() << "\njit:    " << b.describe());
    CHECK(a == b);
    return b;
  }

 private:
  template <class Engine>
  Outcome run(const Engine& engine, std::vector<std::uint8_t>& buffer, const std::vector<std::uint8_t>& initial,
              const vm::ExecOptions& options) const {
    std::memcpy(buffer.data(), initial.data(), initial.size());
    if (before_run) before_run();
    vm::RunContext ctx;
    helpers::HelperRun hr;
    ctx.host = &hr;
    const auto base = reinterpret_cast<std::uintptr_t>(buffer.data());
    ctx.regions.push_back(vm::Region{base, buffer.size(), true, "input"});
    for (const auto& m : maps_) ctx.owners.push_back(m.get());
    const std::uint64_t args[] = {base, buffer.size()};
    return outcome_of(engine.run(ctx, args, options), buffer, options.checked || options.budget_insns);
  }

  helpers::HelperRuntime runtime_;
  vm::HelperRegistry registry_;
  std::vector<std::unique_ptr<maps::Map>> maps_;
  std::vector<std::unique_ptr<Prepared>> programs_;
};

/// The variants worth comparing: fast (no count), counted, checked.
inline std::vector<vm::ExecOptions> every_variant() {
  return {vm::ExecOptions{}, vm::ExecOptions{.budget_insns = 1'000'000}, vm::ExecOptions{.checked = true}};
}

}  // namespace bpfvm::testing
