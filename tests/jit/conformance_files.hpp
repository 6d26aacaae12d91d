// The conformance suite's program files, for the JIT sweeps (Catch2 tests: bpfvm_add_test defines
// BPFVM_CONFORMANCE_DIR).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "vm/data_file.hpp"
#include "vm/program.hpp"

namespace bpfvm::testing {

/// BPFVM_CONFORMANCE_DIR/tests/*.data, sorted by name.
inline std::vector<std::filesystem::path> conformance_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(BPFVM_CONFORMANCE_DIR) / "tests"))
    if (e.path().extension() == ".data") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// A conformance file and its program (named after the file), both of which must read and decode.
struct ConformanceProgram {
  vm::DataFile file;
  vm::Program program;
};

inline ConformanceProgram read_conformance_program(const std::filesystem::path& path) {
  auto file = vm::read_data_file(path);
  REQUIRE(file);
  auto insns = vm::program_of(*file);
  REQUIRE(insns);
  auto program = vm::decode_program(*insns, path.filename().string());
  REQUIRE(program);
  return {std::move(*file), std::move(*program)};
}

}  // namespace bpfvm::testing
