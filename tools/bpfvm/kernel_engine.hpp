// The Linux kernel as an engine of `bpfvm bench` and `bpfvm compare`: an ELF object's maps and programs
// created with raw bpf() (the tests' KernelObject; no libbpf), the chosen program loaded once more with
// one BTF line-info record per instruction so that BPF_OBJ_GET_INFO_BY_FD maps its JIT image back to
// eBPF instructions, runs through BPF_PROG_TEST_RUN.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bpfvm/result.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/bpfvm/map_snapshot.hpp"

namespace bpfvm::tools {

/// What the kernel's JIT made of the program (BPF_OBJ_GET_INFO_BY_FD).
struct KernelCode {
  std::uint32_t bytes_jited = 0;   ///< native code bytes, every function
  std::uint32_t bytes_xlated = 0;  ///< eBPF bytes after the verifier's rewrites
  std::uint32_t verified_insns = 0;
  std::vector<std::uint8_t> image;  ///< jited_prog_insns: the functions' images back to back
  /// Per instruction of the object's program: offset in `image` of its first native byte, or
  /// kNoOffset where the kernel kept no line-info record (second lddw slot, removed code).
  std::vector<std::uint32_t> insn_offset;
  bool image_readable = false;  ///< false when the kernel hid the image or its addresses (kptr_restrict)
};
inline constexpr std::uint32_t kNoOffset = 0xffffffffu;

struct KernelRunResult {
  std::uint32_t retval = 0;
  std::uint32_t duration_ns = 0;  ///< the kernel's mean per repetition
  std::vector<std::uint8_t> data_out;
  std::vector<std::uint8_t> ctx_out;  ///< the context after the run (with want_ctx_out), as the kernel copies it back
};

class KernelEngine {
 public:
  /// Errc::Unsupported with the reason when the kernel cannot take part (no bpf(): not root, seccomp,
  /// not Linux; not an ELF object); other errors are refusals (the kernel's verifier line).
  /// The program is loaded `loads` times (at least once); load_us() is the median.
  static Result<KernelEngine> open(const std::string& path, const InputOptions& options, const std::string& program,
                                   std::uint32_t loads = 1);

  KernelEngine(KernelEngine&&) noexcept;
  KernelEngine& operator=(KernelEngine&&) noexcept;
  ~KernelEngine();

  /// BPF_PROG_TEST_RUN with `repeat` repetitions.
  /// `want_ctx_out`: also ask for the context after the run, for skb programs even without `ctx` (the
  /// kernel then starts from a zeroed __sk_buff, as it does without one, and copies its in/out fields back).
  Result<KernelRunResult> run(std::span<const std::uint8_t> data, std::span<const std::uint8_t> ctx,
                              std::uint32_t repeat, bool want_ctx_out = false) const;
  const KernelCode& code() const;
  /// Wall time of BPF_PROG_LOAD of the program (verification and JIT), median of the loads.
  double load_us() const;
  /// The maps' contents, in the object's map order.
  std::vector<MapSnapshot> maps() const;

  struct Impl;

 private:
  explicit KernelEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bpfvm::tools
