// `bpfvm compare`: per eBPF instruction, the native code bpfvm's JIT emitted beside the kernel JIT's,
// with a size summary.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/bpfvm/kernel_engine.hpp"
#include "tools/bpfvm/native_listing.hpp"
#include "tools/bpfvm/objdump_disasm.hpp"
#include "tools/common/arg_reader.hpp"

namespace bpfvm::tools {

namespace {

constexpr const char* kCompareUsage =
    "usage: bpfvm compare FILE.o [--prog NAME] [--btf FILE] [--kconfig K=V] [--engine jit|jit-opt]\n"
    "                    [--max-verifier-time-ms MS]\n"
    "  For each eBPF instruction: the native code bpfvm's JIT emits (left) beside the code the kernel's\n"
    "  JIT emitted for it (right; BPF_PROG_LOAD with one BTF line-info record per instruction, read back\n"
    "  with BPF_OBJ_GET_INFO_BY_FD and disassembled with binutils' objdump), then a size summary.\n"
    "  The kernel's prologue is counted in instruction 0; bpfvm's run trampoline is shown apart.\n"
    "  Without bpf() (not root, seccomp) the kernel column is skipped with one line saying why.\n"
    "  --engine jit-opt: bpfvm's optimizing tier (its code where it supports the program, else the\n"
    "  baseline's; the header names the tier). An inlined instruction's code is summed over its copies.\n";

constexpr std::size_t kLeftWidth = 46;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bpfvm compare: %s\n\n%s%s", message.c_str(), kCompareUsage, kVerifierTimeUsage);
  return kExitUsage;
}

struct KernelBlock {
  std::vector<std::string> insns;
  std::uint32_t size_bytes = 0;
};

// The kernel's code per instruction: each recorded offset starts a block that runs to the next larger
// recorded offset (instructions sharing an offset: the code belongs to the last of them).
std::map<std::uint32_t, KernelBlock> kernel_blocks(const KernelCode& code, const std::vector<DisassembledInsn>& insns) {
  std::map<std::uint32_t, std::uint32_t> owner;  // offset -> pc
  for (std::uint32_t pc = 0; pc < code.insn_offset.size(); ++pc)
    if (code.insn_offset[pc] != kNoOffset) owner[code.insn_offset[pc]] = pc;
  std::map<std::uint32_t, KernelBlock> out;
  for (const auto& insn : insns) {
    auto it = owner.upper_bound(insn.offset);
    if (it == owner.begin()) continue;
    auto& block = out[std::prev(it)->second];
    block.insns.push_back(insn.text);
    block.size_bytes += insn.size_bytes;
  }
  return out;
}

std::string column(std::string text) {
  if (text.size() > kLeftWidth - 2) text = text.substr(0, kLeftWidth - 3) + "~";
  text.resize(kLeftWidth, ' ');
  return text;
}

}  // namespace

int cmd_compare(Args args) {
  ArgReader r(args);
  std::string path, prog, kconfig, engine_name = "jit";
  InputOptions input_options;
  ProgramOptions options = cli_program_options();
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kCompareUsage, stdout);
      std::fputs(kVerifierTimeUsage, stdout);
      return kExitOk;
    }
    if (r.option("--prog", prog) || r.option("--btf", input_options.btf_path) || r.option("--engine", engine_name) ||
        verifier_time_option(r, options.max_verifier_time_us) || r.positional(path))
      continue;
    if (r.option("--kconfig", kconfig)) {
      if (!add_kconfig(input_options, kconfig)) return usage_error("--kconfig takes KEY=VALUE, not '" + kconfig + "'");
      continue;
    }
    r.unknown();
  }
  if (!r.error().empty()) return usage_error(r.error());
  if (engine_name != "jit" && engine_name != "jit-opt") return usage_error("unknown engine '" + engine_name + "' (jit|jit-opt)");
  if (path.empty()) return usage_error("missing FILE.o");
  if (!path.ends_with(".o")) return usage_error("compare takes an ELF object (.o): the kernel loads only those here");
  auto fail = [&](const Error& e) {
    std::fprintf(stderr, "%s\n", file_error(path, e).c_str());
    return kExitError;
  };

  Vm vm;
  auto input = open_input(vm, path, input_options);
  if (!input) return fail(input.error());
  auto name = pick_program(input->object, prog);
  if (!name) return fail(name.error());
  options.engine = engine_name == "jit-opt" ? Engine::JitOptimized : Engine::Jit;
  auto program = input->object.load(*name, options);
  if (!program) return fail(program.error());
  auto listing = program->native_listing();
  if (!listing) return fail(listing.error());
  const NativeListing ours = parse_native_listing(*listing);

  std::optional<KernelEngine> kernel;
  std::string kernel_missing;
  std::map<std::uint32_t, KernelBlock> theirs;
  if (auto k = KernelEngine::open(path, input_options, *name)) {
    kernel.emplace(std::move(*k));
    if (!kernel->code().image_readable) {
      kernel_missing = "the kernel did not show its JIT image (kptr_restrict / bpf_jit_harden?)";
    } else if (auto insns = objdump_disassemble(kernel->code().image)) {
      theirs = kernel_blocks(kernel->code(), *insns);
    } else {
      kernel_missing = insns.error().reason;
    }
  } else if (k.error().code == Errc::Unsupported) {
    kernel_missing = k.error().reason;
  } else {
    return fail(k.error());
  }
  if (!kernel_missing.empty()) std::fprintf(stderr, "bpfvm compare: kernel column skipped: %s\n", kernel_missing.c_str());
  const bool two = kernel && kernel_missing.empty();

#if defined(__aarch64__)
  constexpr const char* kArch = "arm64";
#else
  constexpr const char* kArch = "x86-64";
#endif
  std::printf("%s %s: bpfvm JIT (%s, %s tier) %s\n\n", path.c_str(), name->c_str(), kArch,
              program->jit_tier() == JitTier::Optimized ? "optimized" : "baseline", two ? "| kernel JIT" : "");
  std::printf("bpfvm %s (entered once per run, not part of the program): %u bytes\n\n",
              program->jit_tier() == JitTier::Optimized ? "prologue" : "run trampoline", ours.entry_bytes());
  std::uint32_t more = 0, fewer = 0, same = 0;
  std::uint32_t our_total = 0;
  for (const auto& [pc, block] : ours.by_pc) {
    const KernelBlock* k = nullptr;
    if (auto it = theirs.find(pc); it != theirs.end()) k = &it->second;
    const std::uint32_t their_bytes = k ? k->size_bytes : 0;
    our_total += block.size_bytes();
    std::string head = block.title;
    if (two) {
      char sizes[80];
      std::snprintf(sizes, sizeof sizes, "   [bpfvm %u B | kernel %u B]", block.size_bytes(), their_bytes);
      head += sizes;
      (block.size_bytes() > their_bytes ? more : block.size_bytes() < their_bytes ? fewer : same) += 1;
    }
    std::printf("%s\n", head.c_str());
    const std::size_t rows = std::max(block.insns.size(), k ? k->insns.size() : std::size_t{0});
    for (std::size_t i = 0; i < rows; ++i) {
      const std::string left = i < block.insns.size() ? block.insns[i].text : "";
      if (!two) {
        std::printf("    %s\n", left.c_str());
        continue;
      }
      const std::string right = k && i < k->insns.size() ? k->insns[i] : "";
      std::printf("    %s| %s\n", column(left).c_str(), right.c_str());
    }
  }
  if (!ours.stubs.empty()) {
    std::printf("\nbpfvm out-of-line stubs:\n");
    for (const auto& s : ours.stubs) std::printf("  %s: %u bytes\n", s.title.c_str(), s.size_bytes());
  }
  std::printf("\nsize: bpfvm %u bytes (instructions %u + stubs %u; trampoline %u not counted)", our_total + ours.stub_bytes(),
              our_total, ours.stub_bytes(), ours.entry_bytes());
  if (kernel)
    std::printf(", kernel %u bytes (bytes_jited; %u eBPF bytes after its rewrites)", kernel->code().bytes_jited,
                kernel->code().bytes_xlated);
  std::printf("\n");
  if (two)
    std::printf("instructions where bpfvm emits more bytes: %u, fewer: %u, the same: %u\n", more, fewer, same);
  return kExitOk;
}

}  // namespace bpfvm::tools
