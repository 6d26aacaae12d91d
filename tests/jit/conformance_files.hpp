// The conformance suite's program files, for the JIT sweeps (Catch2 tests: bpfvm_add_test defines
// BPFVM_CONFORMANCE_DIR).
#pragma once

#include <algorithm>
#include <filesystem>
#include <vector>

namespace bpfvm::testing {

/// BPFVM_CONFORMANCE_DIR/tests/*.data, sorted by name.
inline std::vector<std::filesystem::path> conformance_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(BPFVM_CONFORMANCE_DIR) / "tests"))
    if (e.path().extension() == ".data") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace bpfvm::testing
