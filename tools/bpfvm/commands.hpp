// The bpfvm CLI's subcommands; each returns the process exit code (0 ok, 1 error, 2 usage).
#pragma once

#include <span>
#include <string_view>

namespace bpfvm::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

using Args = std::span<const std::string_view>;

int cmd_run(Args args);
int cmd_asm(Args args);
int cmd_disasm(Args args);
int cmd_objdump(Args args);
int cmd_verify(Args args);
int cmd_fuzz(Args args);
int cmd_bench(Args args);    // cmd_bench.cpp
int cmd_compare(Args args);  // cmd_compare.cpp

}  // namespace bpfvm::tools
