// KernelEngine: the kernel half of `bpfvm bench` / `bpfvm compare`, with raw bpf(2) calls.
#include "tools/bpfvm/kernel_engine.hpp"

#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "vm/isa.hpp"

namespace bpfvm::tools {

namespace {

using testing::Fd;

using testing::errno_text;

std::uint64_t ptr_to_u64(const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); }

// bpf_line_info.line_col holds line << 10 | column; the line carries the instruction index + 1, so a
// record the kernel moved (patched or removed instructions) still names the instruction it came from.
constexpr std::uint32_t kLineShift = 10;

}  // namespace

struct KernelEngine::Impl {
  std::uint32_t prog_type = 0;
  testing::KernelObject object;
  Fd btf;
  Fd prog;
  KernelCode code;
  double load_us = 0;
  std::vector<loader::MapSpec> specs;
};

KernelEngine::KernelEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelEngine::KernelEngine(KernelEngine&&) noexcept = default;
KernelEngine& KernelEngine::operator=(KernelEngine&&) noexcept = default;
KernelEngine::~KernelEngine() = default;
const KernelCode& KernelEngine::code() const { return impl_->code; }
double KernelEngine::load_us() const { return impl_->load_us; }

namespace {

Result<KernelCode> read_code(const Fd& prog, std::size_t insn_count) {
  KernelCode code;
  bpf_prog_info info{};
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.info.bpf_fd = static_cast<std::uint32_t>(prog.get());
  attr.info.info_len = sizeof(info);
  attr.info.info = ptr_to_u64(&info);
  if (testing::kernel_bpf(BPF_OBJ_GET_INFO_BY_FD, attr) < 0)
    return make_error(Errc::Io, "bpf(BPF_OBJ_GET_INFO_BY_FD): " + errno_text(errno));
  code.bytes_jited = info.jited_prog_len;
  code.bytes_xlated = info.xlated_prog_len;
  code.verified_insns = info.verified_insns;
  code.insn_offset.assign(insn_count, kNoOffset);

  // Second call: the image, the functions' addresses and lengths, and both line-info arrays.
  std::vector<std::uint8_t> image(info.jited_prog_len);
  std::vector<std::uint64_t> ksyms(info.nr_jited_ksyms), jited_lines(info.nr_jited_line_info);
  std::vector<std::uint32_t> func_lens(info.nr_jited_func_lens);
  std::vector<bpf_line_info> lines(info.nr_line_info);
  bpf_prog_info full{};
  full.jited_prog_len = static_cast<std::uint32_t>(image.size());
  full.jited_prog_insns = ptr_to_u64(image.data());
  full.nr_jited_ksyms = static_cast<std::uint32_t>(ksyms.size());
  full.jited_ksyms = ptr_to_u64(ksyms.data());
  full.nr_jited_func_lens = static_cast<std::uint32_t>(func_lens.size());
  full.jited_func_lens = ptr_to_u64(func_lens.data());
  full.nr_jited_line_info = static_cast<std::uint32_t>(jited_lines.size());
  full.jited_line_info_rec_size = sizeof(std::uint64_t);
  full.jited_line_info = ptr_to_u64(jited_lines.data());
  full.nr_line_info = static_cast<std::uint32_t>(lines.size());
  full.line_info_rec_size = sizeof(bpf_line_info);
  full.line_info = ptr_to_u64(lines.data());
  std::memset(&attr, 0, sizeof(attr));
  attr.info.bpf_fd = static_cast<std::uint32_t>(prog.get());
  attr.info.info_len = sizeof(full);
  attr.info.info = ptr_to_u64(&full);
  if (testing::kernel_bpf(BPF_OBJ_GET_INFO_BY_FD, attr) < 0)
    return make_error(Errc::Io, "bpf(BPF_OBJ_GET_INFO_BY_FD): " + errno_text(errno));
  code.image = std::move(image);
  // The kernel zeroes addresses it may not show (bpf_dump_raw_ok(): kptr_restrict, capabilities).
  const bool addresses = !ksyms.empty() && ksyms[0] != 0 && ksyms.size() == func_lens.size();
  code.image_readable = !code.image.empty() && std::any_of(code.image.begin(), code.image.end(), [](auto b) { return b; });
  if (!addresses || jited_lines.size() != lines.size()) return code;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::uint32_t line = lines[i].line_col >> kLineShift;
    if (line == 0 || line > insn_count) continue;
    std::uint64_t before = 0;
    for (std::size_t f = 0; f < ksyms.size(); before += func_lens[f], ++f) {
      if (jited_lines[i] < ksyms[f] || jited_lines[i] >= ksyms[f] + func_lens[f]) continue;
      code.insn_offset[line - 1] = static_cast<std::uint32_t>(before + (jited_lines[i] - ksyms[f]));
      break;
    }
  }
  return code;
}

}  // namespace

Result<KernelEngine> KernelEngine::open(const std::string& path, const InputOptions& options, const std::string& program,
                                        std::uint32_t loads) {
  if (!path.ends_with(".o")) return make_error(Errc::Unsupported, "the kernel engine takes ELF objects (.o)");
  if (!testing::kernel_bpf_available())
    return make_error(Errc::Unsupported, "bpf() is not usable here: " + testing::kernel_bpf_unavailable_reason());
  auto bytes = read_file_bytes(path);
  if (!bytes) return std::move(bytes).error();
  std::vector<std::uint8_t> target_btf;
  if (!options.btf_path.empty()) {
    auto btf = read_file_bytes(options.btf_path);
    if (!btf) return std::move(btf).error();
    target_btf = std::move(*btf);
  }
  loader::LoadOptions lo;
  lo.target_btf = target_btf;
  lo.kconfig = kconfig_with_defaults(options);
  lo.object_name = object_name_of(path);
  auto lobj = loader::load_object(*bytes, lo);
  if (!lobj) return std::move(lobj).error();
  const auto* spec = lobj->find_program(program);
  if (spec == nullptr) return make_error(Errc::InvalidArgument, "no program '" + program + "' in the object");

  auto impl = std::make_unique<Impl>();
  impl->prog_type = spec->prog_type;
  std::string log;
  auto kobj = testing::KernelObject::load(*lobj, &log);
  if (!kobj) return make_error(kobj.error().code, kobj.error().reason);
  impl->object = std::move(*kobj);
  impl->specs = lobj->maps;
  std::vector<int> fds;
  for (const auto& m : lobj->maps) {
    const Fd* fd = impl->object.map(m.name);
    fds.push_back(fd ? fd->get() : -1);
  }
  auto insns = testing::patch_map_references(spec->program, fds);
  if (!insns) return std::move(insns).error();

  // BTF for line info (and func info where the kernel needs it): one record per instruction.
  testing::ProgramLoadOptions load;
  load.expected_attach_type = spec->expected_attach_type;
  load.prog_flags = spec->prog_flags;
  load.name = spec->name;
  const auto blob = testing::func_info_btf(spec->func_info, load.func_info);
  if (!testing::needs_func_info(spec->program)) load.func_info.clear();
  auto btf = testing::load_btf(blob);
  if (!btf) return make_error(btf.error().code, btf.error().reason);
  impl->btf = std::move(*btf);
  load.btf_fd = impl->btf.get();
  for (std::size_t pc = 0; pc < spec->program.size(); ++pc)
    if (spec->program.ops[pc] != isa::kNoOp)
      load.line_info.push_back(
          {static_cast<std::uint32_t>(pc), 0, 0, static_cast<std::uint32_t>(pc + 1) << kLineShift});

  std::vector<double> load_us;
  for (std::uint32_t i = 0; i < std::max(loads, 1u); ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto fd = testing::load_program_with(static_cast<bpf_prog_type>(spec->prog_type), *insns, load);
    load_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    if (!fd) return std::move(fd).error();
    impl->prog = std::move(*fd);  // closes the previous load's program
  }
  std::sort(load_us.begin(), load_us.end());
  impl->load_us = load_us[load_us.size() / 2];
  auto code = read_code(impl->prog, spec->program.size());
  if (!code) return std::move(code).error();
  impl->code = std::move(*code);
  return KernelEngine(std::move(impl));
}

namespace {

// The context BPF_PROG_TEST_RUN copies back for a packet program given no context (0: none). An
// skb's in/out fields (mark, priority, cb[], tstamp...) are the program's to write; an xdp_md is
// read-only to XDP programs, and without ctx_in the kernel hands back zeros, so it is not asked for.
std::size_t packet_ctx_bytes(std::uint32_t prog_type) {
  switch (prog_type) {
    case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT:
    case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT:
    case BPF_PROG_TYPE_LWT_XMIT:
      return sizeof(__sk_buff);
    default: return 0;
  }
}

}  // namespace

Result<KernelRunResult> KernelEngine::run(std::span<const std::uint8_t> data, std::span<const std::uint8_t> ctx,
                                          std::uint32_t repeat, bool want_ctx_out) const {
  KernelRunResult out;
  out.data_out.resize(data.size() + 4096);  // room for programs that grow the packet
  const std::size_t ctx_out_bytes = !ctx.empty() ? ctx.size() : want_ctx_out ? packet_ctx_bytes(impl_->prog_type) : 0;
  out.ctx_out.resize(ctx_out_bytes);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = static_cast<std::uint32_t>(impl_->prog.get());
  attr.test.data_in = ptr_to_u64(data.data());
  attr.test.data_size_in = static_cast<std::uint32_t>(data.size());
  if (!data.empty()) {
    attr.test.data_out = ptr_to_u64(out.data_out.data());
    attr.test.data_size_out = static_cast<std::uint32_t>(out.data_out.size());
  }
  if (!ctx.empty()) {
    attr.test.ctx_in = ptr_to_u64(ctx.data());
    attr.test.ctx_size_in = static_cast<std::uint32_t>(ctx.size());
  }
  if (ctx_out_bytes) {
    attr.test.ctx_out = ptr_to_u64(out.ctx_out.data());
    attr.test.ctx_size_out = static_cast<std::uint32_t>(ctx_out_bytes);
  }
  attr.test.repeat = repeat;
  if (testing::kernel_bpf(BPF_PROG_TEST_RUN, attr) < 0)
    return make_error(Errc::Io, "bpf(BPF_PROG_TEST_RUN): " + errno_text(errno));
  out.retval = attr.test.retval;
  out.duration_ns = attr.test.duration;
  out.data_out.resize(data.empty() ? 0 : std::min<std::size_t>(attr.test.data_size_out, out.data_out.size()));
  out.ctx_out.resize(std::min<std::size_t>(attr.test.ctx_size_out, ctx_out_bytes));
  return out;
}

std::vector<MapSnapshot> KernelEngine::maps() const {
  std::vector<MapSnapshot> out;
  const unsigned cpus = testing::possible_cpus();
  for (const auto& spec : impl_->specs) {
    MapSnapshot snap{spec.name, spec.type, comparable_map_type(spec.type), {}};
    const Fd* fd = impl_->object.map(spec.name);
    if (snap.compared && fd != nullptr && spec.key_size > 0) {
      const bool per_cpu = per_cpu_map_type(spec.type);
      const std::size_t value_bytes = per_cpu ? ((spec.value_size + 7u) & ~7u) * std::size_t{cpus} : spec.value_size;
      std::vector<std::uint8_t> key, next(spec.key_size);
      for (std::uint32_t guard = 0; guard <= spec.max_entries; ++guard) {
        if (testing::map_get_next_key(*fd, key, next) != 0) break;
        key = next;
        std::vector<std::uint8_t> value(value_bytes);
        if (testing::map_lookup(*fd, key, value) != 0) continue;
        snap.entries[key] = per_cpu ? fold_per_cpu(value, spec.value_size) : value;
      }
    }
    out.push_back(std::move(snap));
  }
  return out;
}

}  // namespace bpfvm::tools
