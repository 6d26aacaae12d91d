// The kernel oracle: bpf(2) called directly (no libbpf), plus the 64-bit r0 harness for differential tests.
#include "tests/kernel/kernel_oracle.hpp"

#include <linux/btf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/kernel/insn_builder.hpp"
#include "vm/isa.hpp"

namespace bpfvm::testing {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int Fd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

// Returns the syscall's result; on failure -1 with errno set, as bpf(2) documents.
std::atomic<std::uint64_t> g_prog_loads{0}, g_test_runs{0}, g_map_ops{0};

long sys_bpf(int cmd, bpf_attr& attr) {
  switch (cmd) {
    case BPF_PROG_LOAD: ++g_prog_loads; break;
    case BPF_PROG_TEST_RUN: ++g_test_runs; break;
    case BPF_MAP_CREATE: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_DELETE_ELEM:
    case BPF_MAP_GET_NEXT_KEY: case BPF_MAP_FREEZE: ++g_map_ops; break;
    default: break;
  }
  return ::syscall(__NR_bpf, cmd, &attr, sizeof(attr));
}

std::uint64_t ptr_to_u64(const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); }

// The verifier log's reason: its last line that is not the closing statistics ("processed N insns ...").
std::string refusal_line(const std::string& log) {
  std::size_t end = log.size();
  while (end > 0) {
    const std::size_t nl = log.rfind('\n', end - 1);
    const std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
    const std::string line = log.substr(begin, end - begin);
    end = nl == std::string::npos ? 0 : nl;
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    if (line.starts_with("processed ") || line.starts_with("verification time") ||
        line.starts_with("stack depth"))
      continue;
    return line;
  }
  return {};
}

// Rows the harness builds with; opcode bytes come from the ISA table, never from literals here.
constexpr isa::OpId row(std::string_view mnemonic, isa::Operand operand) {
  return isa::find_op(mnemonic, operand);
}

using isa::Operand;
constexpr isa::OpId kMovImm = row("mov", Operand::Imm), kMovReg = row("mov", Operand::Reg),
                    kAddImm = row("add", Operand::Imm), kStw = row("stw", Operand::Imm),
                    kStxdw = row("stxdw", Operand::Reg), kLddwMapFd = row("lddw_map_fd", Operand::Imm),
                    kCall = row("call", Operand::Imm), kCallLocal = row("call local", Operand::Imm),
                    kJneImm = row("jne", Operand::Imm), kExit = row("exit", Operand::None);
static_assert(kMovImm != isa::kNoOp && kMovReg != isa::kNoOp && kAddImm != isa::kNoOp && kStw != isa::kNoOp &&
                  kStxdw != isa::kNoOp && kLddwMapFd != isa::kNoOp && kCall != isa::kNoOp &&
                  kCallLocal != isa::kNoOp && kJneImm != isa::kNoOp && kExit != isa::kNoOp,
              "kernel oracle: a mnemonic it builds with left the ISA table");

// r0 = map_lookup_elem(map, &key); on NULL, exit with XDP_ABORTED. Uses fp-4 for the key.
void push_lookup_or_abort(std::vector<vm::Insn>& out, const Fd& map, std::int32_t key) {
  constexpr int kR0 = 0, kR1 = 1, kR2 = 2;
  out.push_back(make_insn(kStw, isa::kFramePointer, 0, -4, key));
  push_lddw(out, kLddwMapFd, kR1, static_cast<std::uint32_t>(map.get()));
  out.push_back(make_insn(kMovReg, kR2, isa::kFramePointer, 0, 0));
  out.push_back(make_insn(kAddImm, kR2, 0, 0, -4));
  out.push_back(make_insn(kCall, 0, 0, 0, BPF_FUNC_map_lookup_elem));
  out.push_back(make_insn(kJneImm, kR0, 0, 2, 0));
  out.push_back(make_insn(kMovImm, kR0, 0, 0, XDP_ABORTED));
  out.push_back(make_insn(kExit, 0, 0, 0, 0));
}

struct Probe {
  bool ok = false;
  std::string reason;
};

Probe probe_kernel() {
  const vm::Insn ret0[] = {make_insn(kMovImm, 0, 0, 0, 0), make_insn(kExit, 0, 0, 0, 0)};
  if (auto fd = load_program(BPF_PROG_TYPE_SOCKET_FILTER, ret0, nullptr); !fd)
    return {false, "SOCKET_FILTER `r0 = 0; exit`: " + fd.error().reason};
  // Differential tests need XDP and BPF_PROG_TEST_RUN, which take more privilege than socket filters.
  const vm::Insn pass[] = {make_insn(kMovImm, 0, 0, 0, XDP_PASS), make_insn(kExit, 0, 0, 0, 0)};
  auto xdp = load_program(BPF_PROG_TYPE_XDP, pass, nullptr);
  if (!xdp) return {false, "XDP `r0 = XDP_PASS; exit`: " + xdp.error().reason};
  const std::uint8_t packet[64] = {};
  auto run = test_run(*xdp, packet, 1);
  if (!run) return {false, "XDP test run: " + run.error().reason};
  if (run->retval != XDP_PASS)
    return {false, "XDP test run returned " + std::to_string(run->retval) + ", expected XDP_PASS"};
  return {true, {}};
}

const Probe& probe() {
  static const Probe kResult = probe_kernel();  // computed once, immutable afterwards
  return kResult;
}

}  // namespace

bool kernel_bpf_available() { return probe().ok; }

const std::string& kernel_bpf_unavailable_reason() { return probe().reason; }

long kernel_bpf(int cmd, bpf_attr& attr) { return sys_bpf(cmd, attr); }

std::string errno_text(int err) {
  const char* name = ::strerrorname_np(err);
  return std::string(std::strerror(err)) + " (" + (name ? name : std::to_string(err)) + ")";
}

bool needs_func_info(const vm::Program& program) {
  bool local_calls = false, packet_loads = false;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    if (program.ops[pc] == isa::kNoOp) continue;
    const auto form = program.op(pc).form;
    if (form == isa::Form::WideImm && program.insns[pc].src == static_cast<std::uint8_t>(isa::LddwSrc::Func))
      return true;
    local_calls |= form == isa::Form::CallLocal;
    packet_loads |= form == isa::Form::PacketLoad;
    packet_loads |= form == isa::Form::Call && program.insns[pc].imm == 12;  // BPF_FUNC_tail_call
  }
  return local_calls && packet_loads;
}

bool kernel_required() {
  const char* v = std::getenv("BPFVM_REQUIRE_KERNEL");
  return v && *v && std::string_view(v) != "0";
}

KernelCallCounts kernel_call_counts() { return {g_prog_loads.load(), g_test_runs.load(), g_map_ops.load()}; }
double StatsLoad::number_after(std::string_view key) const {
  const auto at = log.rfind(key);
  return at == std::string::npos ? -1 : std::strtod(log.c_str() + at + key.size(), nullptr);
}

StatsLoad load_program_stats(bpf_prog_type type, std::span<const vm::Insn> insns) {
  constexpr std::uint32_t kLogStats = 4;  // BPF_LOG_STATS
  const auto bytes = vm::encode_program(insns);
  static constexpr char kLicense[] = "GPL";
  StatsLoad out;
  std::string log(1u << 16, '\0');
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = type;
  attr.insns = ptr_to_u64(bytes.data());
  attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
  attr.license = ptr_to_u64(kLicense);
  attr.log_level = kLogStats;
  attr.log_buf = ptr_to_u64(log.data());
  attr.log_size = static_cast<std::uint32_t>(log.size());
  const long fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) out.fd.reset(static_cast<int>(fd));
  else out.error = errno;
  log.resize(std::strlen(log.c_str()));
  out.log = std::move(log);
  return out;
}

Result<Fd> load_program(bpf_prog_type type, std::span<const vm::Insn> insns, std::string* verifier_log) {
  return load_program_with(type, insns, ProgramLoadOptions{}, verifier_log);
}

namespace {

Result<TestRunResult> run_test(const Fd& prog, std::span<const std::uint8_t> data_in, std::uint32_t repeat,
                               std::span<const std::uint8_t> ctx_in, bool enospc_is_result) {
  TestRunResult out;
  // Room for programs that grow the packet (bpf_xdp_adjust_tail); the kernel reports the real size.
  out.data_out.resize(data_in.size() + kTestRunSlackBytes);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = static_cast<std::uint32_t>(prog.get());
  attr.test.data_in = ptr_to_u64(data_in.data());
  attr.test.data_size_in = static_cast<std::uint32_t>(data_in.size());
  attr.test.data_out = ptr_to_u64(out.data_out.data());
  attr.test.data_size_out = static_cast<std::uint32_t>(out.data_out.size());
  attr.test.repeat = repeat;
  if (!ctx_in.empty()) {
    attr.test.ctx_in = ptr_to_u64(ctx_in.data());
    attr.test.ctx_size_in = static_cast<std::uint32_t>(ctx_in.size());
  }
  if (sys_bpf(BPF_PROG_TEST_RUN, attr) < 0) {
    if (!enospc_is_result || errno != ENOSPC) return make_error(Errc::Io, "bpf(BPF_PROG_TEST_RUN): " + errno_text(errno));
    out.data_truncated = true;  // bpf_test_finish still reported retval, duration and the full size
  }
  out.retval = attr.test.retval;
  out.duration_ns = attr.test.duration;
  out.data_size_full = attr.test.data_size_out;
  out.data_out.resize(std::min<std::size_t>(attr.test.data_size_out, out.data_out.size()));
  return out;
}

}  // namespace

Result<TestRunResult> test_run(const Fd& prog, std::span<const std::uint8_t> data_in, std::uint32_t repeat,
                               std::span<const std::uint8_t> ctx_in) {
  return run_test(prog, data_in, repeat, ctx_in, false);
}

Result<TestRunResult> test_run_bounded(const Fd& prog, std::span<const std::uint8_t> data_in, std::uint32_t repeat,
                                       std::span<const std::uint8_t> ctx_in) {
  return run_test(prog, data_in, repeat, ctx_in, true);
}

namespace {

// BTF for a map whose 4-byte key is an int and whose value is `value_size` bytes holding one struct
// `field` (bpf_spin_lock, bpf_timer: the kernel matches its name and size) of `field_size` bytes at
// `field_off`: [1] int, [2] struct <field> { int val; }, [3] struct value.
std::vector<std::uint8_t> special_field_value_btf(std::uint32_t value_size, std::string_view field,
                                                  std::uint32_t field_size, std::uint32_t field_off) {
  struct Types {
    btf_type int_type;
    std::uint32_t int_encoding;
    btf_type field_type;
    btf_member field_val;
    btf_type value_type;
    btf_member value_field;
  };
  static_assert(sizeof(Types) == 3 * sizeof(btf_type) + 4 + 2 * sizeof(btf_member));
  // "\0int\0<field>\0val\0value\0f": offsets 1, 5, then after the field's name.
  std::string strings("\0int\0", 5);
  strings += field;
  strings.push_back('\0');
  const auto val_off = static_cast<std::uint32_t>(strings.size());
  strings += std::string("val\0value\0f\0", 12);
  const std::uint32_t value_off = val_off + 4, member_off = val_off + 10;
  Types t{};
  t.int_type = btf_type{1, btf_info(BTF_KIND_INT, 0), {4}};
  t.int_encoding = btf_int_encoding(BTF_INT_SIGNED, 0, 32);
  t.field_type = btf_type{5, btf_info(BTF_KIND_STRUCT, 1), {field_size}};
  t.field_val = btf_member{val_off, 1, 0};
  t.value_type = btf_type{value_off, btf_info(BTF_KIND_STRUCT, 1), {value_size}};
  t.value_field = btf_member{member_off, 2, field_off * 8};
  btf_header hdr{};
  hdr.magic = BTF_MAGIC;
  hdr.version = BTF_VERSION;
  hdr.hdr_len = sizeof(hdr);
  hdr.type_len = sizeof(t);
  hdr.str_off = hdr.type_len;
  hdr.str_len = static_cast<std::uint32_t>(strings.size());
  std::vector<std::uint8_t> out(sizeof hdr + sizeof t + strings.size());
  std::memcpy(out.data(), &hdr, sizeof hdr);
  std::memcpy(out.data() + sizeof hdr, &t, sizeof t);
  std::memcpy(out.data() + sizeof hdr + sizeof t, strings.data(), strings.size());
  return out;
}

}  // namespace

bool needs_key_value_btf(std::uint32_t type) {
  constexpr std::uint32_t kCgrpStorage = 32;  // BPF_MAP_TYPE_CGRP_STORAGE, newer than the system header
  return type == BPF_MAP_TYPE_SK_STORAGE || type == BPF_MAP_TYPE_INODE_STORAGE ||
         type == BPF_MAP_TYPE_TASK_STORAGE || type == kCgrpStorage;
}

int map_create(const MapSpec& spec, Fd& out) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = spec.type;
  attr.key_size = spec.key_size;
  attr.value_size = spec.value_size;
  attr.max_entries = spec.max_entries;
  attr.map_flags = spec.map_flags;
  Fd btf;  // the map keeps its own reference; ours closes after the create
  if (spec.spin_lock_off >= 0 || spec.timer_off >= 0 || needs_key_value_btf(spec.type)) {
    if (spec.key_size != 4 || (spec.spin_lock_off >= 0 && spec.timer_off >= 0))
      return -EINVAL;  // the BTF above describes an int key and one special field
    auto loaded = load_btf(spec.spin_lock_off >= 0
                               ? special_field_value_btf(spec.value_size, "bpf_spin_lock", 4,
                                                         static_cast<std::uint32_t>(spec.spin_lock_off))
                           : spec.timer_off >= 0
                               ? special_field_value_btf(spec.value_size, "bpf_timer", 16,
                                                         static_cast<std::uint32_t>(spec.timer_off))
                               // a plain value: an ordinary 4-byte struct at its start
                               : special_field_value_btf(spec.value_size, "v", 4, 0));
    if (!loaded) return -EINVAL;
    btf = std::move(*loaded);
    attr.btf_fd = static_cast<std::uint32_t>(btf.get());
    attr.btf_key_type_id = 1;
    attr.btf_value_type_id = 3;
  }
  const long fd = sys_bpf(BPF_MAP_CREATE, attr);
  if (fd < 0) return -errno;
  out.reset(static_cast<int>(fd));
  return 0;
}

namespace {
int map_elem_op(int cmd, const Fd& map, const void* key, std::uint64_t value_or_next, std::uint64_t flags) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_fd = static_cast<std::uint32_t>(map.get());
  attr.key = ptr_to_u64(key);
  attr.value = value_or_next;  // shares its slot with next_key in union bpf_attr
  attr.flags = flags;
  return sys_bpf(cmd, attr) < 0 ? -errno : 0;
}
}  // namespace

int map_update(const Fd& map, std::span<const std::uint8_t> key, std::span<const std::uint8_t> value,
               std::uint64_t flags) {
  return map_elem_op(BPF_MAP_UPDATE_ELEM, map, key.data(), ptr_to_u64(value.data()), flags);
}

int map_lookup(const Fd& map, std::span<const std::uint8_t> key, std::span<std::uint8_t> value) {
  return map_elem_op(BPF_MAP_LOOKUP_ELEM, map, key.data(), ptr_to_u64(value.data()), 0);
}

int map_delete(const Fd& map, std::span<const std::uint8_t> key) {
  return map_elem_op(BPF_MAP_DELETE_ELEM, map, key.data(), 0, 0);
}

int map_get_next_key(const Fd& map, std::span<const std::uint8_t> key, std::span<std::uint8_t> next_key) {
  return map_elem_op(BPF_MAP_GET_NEXT_KEY, map, key.empty() ? nullptr : key.data(),
                     ptr_to_u64(next_key.data()), 0);
}

Result<std::uint64_t> run_r0_64(std::span<const vm::Insn> body, std::span<const std::uint8_t> mem,
                                std::string* verifier_log, std::vector<std::uint8_t>* mem_after) {
  if (body.empty()) return make_error(Errc::InvalidArgument, "run_r0_64: empty body");
  // Slot 0 receives r0, slot 1 holds the body's memory.
  constexpr std::uint32_t kResultKey = 0, kMemKey = 1;
  const std::uint32_t value_size = std::max<std::uint32_t>(8, (static_cast<std::uint32_t>(mem.size()) + 7) & ~7u);
  Fd map;
  if (int err = map_create({BPF_MAP_TYPE_ARRAY, 4, value_size, 2, 0}, map); err < 0)
    return make_error(Errc::Io, "run_r0_64: bpf(BPF_MAP_CREATE): " + errno_text(-err));
  auto key_bytes = [](const std::uint32_t& k) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&k), sizeof(k));
  };
  std::vector<std::uint8_t> value(value_size, 0);
  if (!mem.empty()) {
    std::copy(mem.begin(), mem.end(), value.begin());
    if (int err = map_update(map, key_bytes(kMemKey), value); err < 0)
      return make_error(Errc::Io, "run_r0_64: bpf(BPF_MAP_UPDATE_ELEM): " + errno_text(-err));
  }

  constexpr int kR0 = 0, kR1 = 1, kR2 = 2, kR6 = 6;
  std::vector<vm::Insn> prog;
  if (mem.empty()) {
    prog.push_back(make_insn(kMovImm, kR1, 0, 0, 0));
  } else {
    push_lookup_or_abort(prog, map, kMemKey);
    prog.push_back(make_insn(kMovReg, kR1, kR0, 0, 0));
  }
  prog.push_back(make_insn(kMovImm, kR2, 0, 0, static_cast<std::int32_t>(mem.size())));
  for (int r = 3; r <= 5; ++r) prog.push_back(make_insn(kMovImm, r, 0, 0, 0));
  const std::size_t call_pc = prog.size();
  prog.push_back(make_insn(kCallLocal, 0, 0, 0, 0));  // target patched below, once the tail's length is known
  prog.push_back(make_insn(kMovReg, kR6, kR0, 0, 0));  // r6..r9 survive calls
  push_lookup_or_abort(prog, map, kResultKey);
  prog.push_back(make_insn(kStxdw, kR0, kR6, 0, 0));
  prog.push_back(make_insn(kMovImm, kR0, 0, 0, XDP_PASS));
  prog.push_back(make_insn(kExit, 0, 0, 0, 0));
  prog[call_pc].imm = static_cast<std::int32_t>(prog.size() - (call_pc + 1));
  prog.insert(prog.end(), body.begin(), body.end());

  auto fd = load_program(BPF_PROG_TYPE_XDP, prog, verifier_log);
  if (!fd) return std::move(fd).error();
  const std::uint8_t packet[64] = {};  // XDP needs at least ETH_HLEN bytes; the body never sees them
  auto run = test_run(*fd, packet, 1);
  if (!run) return std::move(run).error();
  if (run->retval != XDP_PASS)
    return make_error(Errc::Internal, "run_r0_64: harness returned " + std::to_string(run->retval) +
                                          " (map lookup failed), expected XDP_PASS");

  std::uint64_t r0 = 0;
  if (int err = map_lookup(map, key_bytes(kResultKey), value); err < 0)
    return make_error(Errc::Io, "run_r0_64: bpf(BPF_MAP_LOOKUP_ELEM): " + errno_text(-err));
  std::memcpy(&r0, value.data(), sizeof(r0));
  if (mem_after) {
    mem_after->clear();
    if (!mem.empty()) {
      if (int err = map_lookup(map, key_bytes(kMemKey), value); err < 0)
        return make_error(Errc::Io, "run_r0_64: bpf(BPF_MAP_LOOKUP_ELEM): " + errno_text(-err));
      mem_after->assign(value.begin(), value.begin() + static_cast<std::ptrdiff_t>(mem.size()));
    }
  }
  return r0;
}

Result<Fd> load_program_with(bpf_prog_type type, std::span<const vm::Insn> insns, const ProgramLoadOptions& options,
                             std::string* verifier_log) {
  if (verifier_log) verifier_log->clear();
  if (insns.empty()) return make_error(Errc::InvalidArgument, "bpf(BPF_PROG_LOAD): empty program");
  const auto bytes = vm::encode_program(insns);
  static constexpr char kLicense[] = "GPL";

  auto attempt = [&](std::string* log) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.prog_type = type;
    attr.insns = ptr_to_u64(bytes.data());
    attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
    attr.license = ptr_to_u64(kLicense);
    attr.expected_attach_type = options.expected_attach_type;
    attr.prog_flags = options.prog_flags;
    attr.attach_btf_id = options.attach_btf_id;
    std::strncpy(attr.prog_name, options.name.c_str(), sizeof(attr.prog_name) - 1);
    if (options.btf_fd >= 0 && !options.func_info.empty()) {
      attr.prog_btf_fd = static_cast<std::uint32_t>(options.btf_fd);
      attr.func_info = ptr_to_u64(options.func_info.data());
      attr.func_info_cnt = static_cast<std::uint32_t>(options.func_info.size());
      attr.func_info_rec_size = sizeof(bpf_func_info);
    }
    if (options.btf_fd >= 0 && !options.line_info.empty()) {
      attr.prog_btf_fd = static_cast<std::uint32_t>(options.btf_fd);
      attr.line_info = ptr_to_u64(options.line_info.data());
      attr.line_info_cnt = static_cast<std::uint32_t>(options.line_info.size());
      attr.line_info_rec_size = sizeof(bpf_line_info);
    }
    if (log) {
      attr.log_level = 1;
      attr.log_buf = ptr_to_u64(log->data());
      attr.log_size = static_cast<std::uint32_t>(log->size());
    }
    return sys_bpf(BPF_PROG_LOAD, attr);
  };

  // Fast path without a log; only a refused program pays for the verbose second load.
  long fd = attempt(nullptr);
  if (fd >= 0) return Fd(static_cast<int>(fd));
  const int first_errno = errno;
  if (first_errno == EPERM || first_errno == ENOSYS)
    return make_error(Errc::Rejected, "bpf(BPF_PROG_LOAD): " + errno_text(first_errno));
  // The first errno is the verifier's; the logged retry may add ENOSPC when the log overflows.
  std::string log(16u << 20, '\0');
  fd = attempt(&log);
  if (fd >= 0) return Fd(static_cast<int>(fd));  // accepted when logged: not expected, but loaded
  log.resize(std::strlen(log.c_str()));
  const std::string why = refusal_line(log);
  if (verifier_log) *verifier_log = std::move(log);
  return make_error(Errc::Rejected,
                    "bpf(BPF_PROG_LOAD): " + errno_text(first_errno) + (why.empty() ? "" : ": " + why));
}

Result<Fd> load_btf(std::span<const std::uint8_t> btf) {
  std::string log(1u << 20, '\0');
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.btf = ptr_to_u64(btf.data());
  attr.btf_size = static_cast<std::uint32_t>(btf.size());
  attr.btf_log_level = 1;
  attr.btf_log_buf = ptr_to_u64(log.data());
  attr.btf_log_size = static_cast<std::uint32_t>(log.size());
  const long fd = sys_bpf(BPF_BTF_LOAD, attr);
  if (fd >= 0) return Fd(static_cast<int>(fd));
  const int err = errno;
  log.resize(std::strlen(log.c_str()));
  const std::string why = refusal_line(log);
  return make_error(Errc::Rejected, "bpf(BPF_BTF_LOAD): " + errno_text(err) + (why.empty() ? "" : ": " + why));
}

int map_freeze(const Fd& map) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_fd = static_cast<std::uint32_t>(map.get());
  return sys_bpf(BPF_MAP_FREEZE, attr) < 0 ? -errno : 0;
}

unsigned possible_cpus() {
  // The file reads like "0-1" or "0,2-3"; count every listed CPU.
  FILE* f = std::fopen("/sys/devices/system/cpu/possible", "r");
  if (!f) return 1;
  char buf[256] = {};
  const std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  unsigned count = 0;
  const char* p = buf;
  while (*p >= '0' && *p <= '9') {
    char* end = nullptr;
    const unsigned long lo = std::strtoul(p, &end, 10);
    unsigned long hi = lo;
    if (*end == '-') hi = std::strtoul(end + 1, &end, 10);
    count += static_cast<unsigned>(hi - lo + 1);
    p = *end == ',' ? end + 1 : end;
  }
  return count ? count : 1;
}

}  // namespace bpfvm::testing
