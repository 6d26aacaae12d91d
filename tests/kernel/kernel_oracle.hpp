// The Linux kernel as a test oracle: raw bpf(2) wrappers to load, run and inspect eBPF programs and maps.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "vm/program.hpp"

namespace bpfvm::testing {

/// Owns one file descriptor (program, map); closes it on destruction. Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() noexcept;
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

/// True when this process may load and test-run programs. Probed once (a SOCKET_FILTER `r0 = 0; exit`).
bool kernel_bpf_available();
/// Why kernel_bpf_available() is false ("bpf(BPF_PROG_LOAD): Operation not permitted (EPERM)"), or "".
const std::string& kernel_bpf_unavailable_reason();

/// bpf() calls this process made through the oracle (the availability probe included), by kind: what
/// the kernel tests print as "kernel comparisons", so a run that compared nothing shows it.
struct KernelCallCounts {
  std::uint64_t prog_loads = 0, test_runs = 0, map_ops = 0;
};
KernelCallCounts kernel_call_counts();

/// Raw bpf(2) for what the wrappers below do not cover, counted in kernel_call_counts() like theirs.
long kernel_bpf(int cmd, bpf_attr& attr);
/// "Operation not permitted (EPERM)": an errno as the oracle's errors name it.
std::string errno_text(int err);
/// True when the kernel wants BTF func info to load `program`: BPF_PSEUDO_FUNC loads, and LD_ABS/LD_IND
/// or bpf_tail_call in a program with subprograms ("LD_ABS / tail_call is not allowed in subprogs
/// without BTF"). Elsewhere programs load without it.
bool needs_func_info(const vm::Program& program);

/// True when BPFVM_REQUIRE_KERNEL=1: kernel tests then fail instead of skipping where bpf() is unusable
/// (.ci/run sets it; CI runs as root, where a skip would hide that no comparison ran).
bool kernel_required();

/// BPF_PROG_LOAD with license "GPL". On rejection the error (Errc::Rejected) names the errno and the
/// last line of the verifier log; `verifier_log`, when given, receives the whole log (empty on success).
Result<Fd> load_program(bpf_prog_type type, std::span<const vm::Insn> insns,
                        std::string* verifier_log = nullptr);

/// BPF_PROG_LOAD with log_level BPF_LOG_STATS (4): the kernel logs only its verdict line and statistics
/// ("verification time N usec", "processed N insns ..."), so a program near the 1M limit costs no
/// log time. `log` holds that text whatever the verdict.
struct StatsLoad {
  Fd fd;           ///< the loaded program, when accepted
  int error = 0;   ///< errno of a refusal (E2BIG for the complexity limits), 0 when accepted
  std::string log;
  bool accepted() const { return fd.valid(); }
  /// The number after the log's last `key` ("verification time ", "processed "), or -1.
  double number_after(std::string_view key) const;
};
StatsLoad load_program_stats(bpf_prog_type type, std::span<const vm::Insn> insns);

struct TestRunResult {
  std::uint32_t retval = 0;            // the kernel reports only the low 32 bits of r0
  std::uint32_t duration_ns = 0;       // mean per repeat, incl. ~28 ns harness overhead
  std::vector<std::uint8_t> data_out;  // packet after the run (cut to the buffer when data_truncated)
  /// test_run_bounded only: the packet outgrew the data_out buffer (the kernel's ENOSPC, which still
  /// reports retval, the packet's full size in data_size_full and the bytes that fit).
  bool data_truncated = false;
  std::uint32_t data_size_full = 0;
};

/// The data_out buffer test_run gives the kernel: data_in's size plus this many bytes.
inline constexpr std::size_t kTestRunSlackBytes = 4096;

/// BPF_PROG_TEST_RUN. XDP needs at least 14 bytes of data_in (ETH_HLEN). `ctx_in`: the context
/// struct passed in (none when empty). A packet that outgrows the data_out buffer (data_in's size +
/// kTestRunSlackBytes) is an error (ENOSPC).
Result<TestRunResult> test_run(const Fd& prog, std::span<const std::uint8_t> data_in,
                               std::uint32_t repeat = 1, std::span<const std::uint8_t> ctx_in = {});
/// The same, but the kernel's ENOSPC is a result: data_truncated, with what the kernel reports then.
Result<TestRunResult> test_run_bounded(const Fd& prog, std::span<const std::uint8_t> data_in,
                                       std::uint32_t repeat = 1, std::span<const std::uint8_t> ctx_in = {});

struct MapSpec {
  /// A BPF_MAP_TYPE_* value: a plain integer, since this kernel has types (CGRP_STORAGE = 32) the
  /// system header's enum does not (a bpf_map_type holding 32 is undefined behaviour, UBSan says).
  std::uint32_t type = BPF_MAP_TYPE_ARRAY;
  std::uint32_t key_size = 4;
  std::uint32_t value_size = 8;
  std::uint32_t max_entries = 1;
  std::uint32_t map_flags = 0;
  /// >= 0: the value holds a struct bpf_spin_lock at this offset; map_create then describes the
  /// value with BTF (the kernel allows bpf_spin_lock only in BTF-described values).
  std::int32_t spin_lock_off = -1;
  /// >= 0: the value holds a struct bpf_timer at this offset (BTF-described as above).
  std::int32_t timer_off = -1;
};

/// The local-storage map types, which the kernel creates only with BTF for key and value: map_create
/// describes them (an int key, a value struct of value_size >= 4 bytes).
bool needs_key_value_btf(std::uint32_t type);

// <linux/btf.h> documents these encodings but (unlike libbpf's headers) defines no macros for them.
constexpr std::uint32_t btf_info(std::uint32_t kind, std::uint32_t vlen_or_linkage) {
  return (kind << 24) | (vlen_or_linkage & 0xffff);
}
constexpr std::uint32_t btf_int_encoding(std::uint32_t encoding, std::uint32_t offset, std::uint32_t bits) {
  return (encoding << 24) | (offset << 16) | bits;
}

// Map wrappers return 0 or the kernel's negative errno (-ENOENT, -E2BIG, ...): ABI data, not Errors.
// Key and value spans must be exactly the map's key_size / value_size bytes.

/// BPF_MAP_CREATE; on success `out` owns the new map.
int map_create(const MapSpec& spec, Fd& out);
/// BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST.
int map_update(const Fd& map, std::span<const std::uint8_t> key, std::span<const std::uint8_t> value,
               std::uint64_t flags = BPF_ANY);
int map_lookup(const Fd& map, std::span<const std::uint8_t> key, std::span<std::uint8_t> value);
int map_delete(const Fd& map, std::span<const std::uint8_t> key);
/// BPF_MAP_GET_NEXT_KEY; an empty `key` asks for the first key.
int map_get_next_key(const Fd& map, std::span<const std::uint8_t> key, std::span<std::uint8_t> next_key);

/// Runs `body` as a BPF-to-BPF subprogram of an XDP program and returns its full 64-bit r0, which the
/// main program stores into an array map (BPF_PROG_TEST_RUN's retval has only 32 bits).
/// The body starts with r1 = address of a copy of `mem` (an array map value), r2 = mem.size(), and
/// r3..r5 = 0; with empty `mem`, r1 = r2 = 0. It may use at most 480 bytes of stack (the caller's
/// frame takes 32 of MAX_BPF_STACK). `mem_after`, when given, receives the memory after the run.
Result<std::uint64_t> run_r0_64(std::span<const vm::Insn> body, std::span<const std::uint8_t> mem = {},
                                std::string* verifier_log = nullptr,
                                std::vector<std::uint8_t>* mem_after = nullptr);

/// What BPF_PROG_LOAD takes beyond type and code (for objects: see tests/runtime/kernel_object.hpp).
struct ProgramLoadOptions {
  std::uint32_t expected_attach_type = 0;
  std::uint32_t prog_flags = 0;
  std::uint32_t attach_btf_id = 0;  ///< tracing programs: the target's id in the kernel's BTF (vmlinux)
  int btf_fd = -1;  ///< with func_info / line_info: the BTF the records refer to
  std::vector<bpf_func_info> func_info;
  std::vector<bpf_line_info> line_info;
  std::string name;  ///< truncated to BPF_OBJ_NAME_LEN - 1
};
/// BPF_PROG_LOAD with options; errors and logs as load_program().
Result<Fd> load_program_with(bpf_prog_type type, std::span<const vm::Insn> insns, const ProgramLoadOptions& options,
                             std::string* verifier_log = nullptr);
/// BPF_BTF_LOAD of a raw BTF blob; the error names the errno and the last log line.
Result<Fd> load_btf(std::span<const std::uint8_t> btf);
/// BPF_MAP_FREEZE: 0 or -errno.
int map_freeze(const Fd& map);
/// Number of possible CPUs (/sys/devices/system/cpu/possible): per-CPU values hold this many slots.
unsigned possible_cpus();

}  // namespace bpfvm::testing
