// A conformance-suite `.data` program and its input memory, loaded for a benchmark; a file that does
// not load stops the benchmark binary with its path and reason.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "vm/data_file.hpp"
#include "vm/program.hpp"

namespace bpfvm::bench {

struct ConformanceProgram {
  vm::Program program;
  std::vector<std::uint8_t> mem;
};

[[noreturn]] inline void stop_loading(const std::string& path, const Error& error) {
  std::fprintf(stderr, "%s: %s\n", path.c_str(), error.message().c_str());
  std::abort();
}

inline ConformanceProgram load_conformance_program(const std::string& path) {
  auto file = vm::read_data_file(path);
  if (!file) stop_loading(path, file.error());
  auto insns = vm::program_of(*file);
  if (!insns) stop_loading(path, insns.error());
  auto program = vm::decode_program(std::move(*insns), path);
  if (!program) stop_loading(path, program.error());
  return {std::move(*program), file->mem};
}

}  // namespace bpfvm::bench
