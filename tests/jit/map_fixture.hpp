// Tests of map lookups in JIT code: a map table with the kernel helpers, programs naming a map by
// table index (`lddw_map_fd %r1, i`), and the optimized IR of a program with its maps resolved.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "helpers/kernel_helpers.hpp"
#include "helpers/runtime.hpp"
#include "jit/jit_program.hpp"
#include "jit/opt/pipeline.hpp"
#include "maps/map_table.hpp"

namespace bpfvm::testing {

struct MapFixture {
  MapFixture() { helpers::register_kernel_helpers(registry, runtime); }

  /// The table index of a new map of `spec` (what `lddw_map_fd` names).
  std::uint32_t add(const maps::MapSpec& spec) {
    auto index = table.create(spec);
    REQUIRE(index);
    return *index;
  }

  vm::PseudoResolver resolver() {
    return [this](isa::LddwSrc, std::int32_t imm, std::int32_t, std::uint32_t) -> Result<std::uint64_t> {
      return reinterpret_cast<std::uint64_t>(table.get(static_cast<std::uint32_t>(imm)));
    };
  }

  /// The IR of `program` after every pass, with the maps resolved as the JIT resolves them.
  std::string ir_of(const vm::Program& program) {
    std::vector<std::uint64_t> values(program.size(), 0);
    std::vector<const vm::HelperEntry*> calls(program.size(), nullptr);
    for (std::size_t pc = 0; pc < program.size(); ++pc) {
      if (program.ops[pc] == isa::kNoOp) continue;
      const auto& insn = program.insns[pc];
      if (program.op(pc).form == isa::Form::Call) calls[pc] = registry.find(static_cast<std::uint32_t>(insn.imm));
      if (program.op(pc).form == isa::Form::WideImm) values[pc] = *resolver()(isa::LddwSrc::MapFd, insn.imm, 0, 0);
    }
    jit::CompileRequest req;
    req.program = &program;
    req.lddw_values = values;
    req.helpers = calls;
    auto fn = jit::opt::build_optimized(req, {}, {});
    REQUIRE(fn);
    return jit::opt::to_text(*fn);
  }

  helpers::HelperRuntime runtime;
  vm::HelperRegistry registry;
  maps::MapTable table{2};  // two CPUs: a per-CPU map has two slots
};

}  // namespace bpfvm::testing
