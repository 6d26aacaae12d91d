// Test support: a helper registry with kernel signatures, the suite's map set, and .data runners.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "verifier/verifier.hpp"
#include "vm/data_file.hpp"
#include "vm/helper_registry.hpp"

namespace bpfvm::verifier::test {

/// Kernel signatures for the helpers the suites call (ids as in <linux/bpf.h>); every function
/// returns 0. Helper 5 is registered without a signature, as the conformance plugin has it.
vm::HelperRegistry kernel_like_helpers();

/// Maps every suite program may name: 0 hash (4-byte key, 8-byte value), 1 array (4 -> 64 bytes),
/// 2 ringbuf (4096 bytes), 3 read-only array (4 -> 16 bytes), 4 array of maps whose inner maps are
/// hashes (4 -> 8 bytes).
std::vector<MapInfo> suite_maps();

/// Options for a suite file, chosen by its name prefix: plain-, xdp-, tc-, socket-, kprobe-,
/// tracepoint-, rawtp-, unpriv- (plain, unprivileged). Plain programs get `mem_size` bytes.
VerifierOptions options_for(const std::filesystem::path& file, std::uint32_t mem_size,
                            const vm::HelperRegistry& helpers);

/// Sorted .data files of a directory.
std::vector<std::filesystem::path> data_files(const std::filesystem::path& dir);

}  // namespace bpfvm::verifier::test
