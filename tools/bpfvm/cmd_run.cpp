// `bpfvm run`: load (and verify) a program, run it on input, print r0 / the packet / the maps.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "tools/bpfvm/cmd_coverage.hpp"
#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/bpfvm/map_dump.hpp"
#include "tools/common/arg_reader.hpp"
#include "tools/common/hex_text.hpp"

namespace bpfvm::tools {

namespace {

constexpr const char* kRunUsage =
    "usage: bpfvm run PROGRAM [options]\n"
    "  PROGRAM            .o ELF object, .s assembly, .bin raw bytecode or conformance .data file\n"
    "  --prog NAME        program of an object (default: its only program)\n"
    "  --mem HEX          plain programs: input buffer as hex (r1 = its address, r2 = its length)\n"
    "  --mem-file FILE    plain programs: input buffer from a file\n"
    "  --packet FILE      packet programs (xdp, socket, tc, cgroup_skb, lwt, flow_dissector): packet\n"
    "                     bytes (a flow dissector's output is its struct bpf_flow_keys); sk_skb: the\n"
    "                     stream bytes; sk_msg: the message; sk_reuseport: an Ethernet frame (IPv4/IPv6,\n"
    "                     TCP/UDP; the context's hash and bind_inany from --ctx, the selection printed)\n"
    "  --ctx FILE         context bytes (xdp_md, __sk_buff, pt_regs, bpf_sock, bpf_sk_lookup, ...); types without a\n"
    "                     kernel test run (cgroup_sock, cgroup_sock_addr, perf_event, ...) run on\n"
    "                     exactly these bytes as the UAPI struct, zero-filled\n"
    "  --type SECTION     program type by section name (xdp, tc, socket, ...); replaces the\n"
    "                     type an ELF section's name gives (needed where it gives none)\n"
    "  --btf FILE         target BTF for CO-RE (default /sys/kernel/btf/vmlinux when the object needs one)\n"
    "  --kconfig K=V      value of a __kconfig extern (LINUX_KERNEL_VERSION defaults to uname's)\n"
    "  --inner-map OUTER=MAP  inner map template for map-in-map OUTER when its definition names none\n"
    "                     (a 20-byte struct bpf_map_def): MAP, another map of the object\n"
    "  --engine E         interp (default), jit, or jit-opt (the optimizing tier for fast runs where\n"
    "                     it supports the program, else the baseline JIT; --json's \"tier\" says which ran)\n"
    "  --no-verify        run without the verifier (prints a warning)\n"
    "  --budget N         stop with an error after N instructions\n"
    "  --checked          check every load/store against the memory the run owns\n"
    "  --coverage FILE    write an lcov tracefile of the source lines and branches run (interp, checked)\n"
    "  --repeat N         run N times on one packet/context (as BPF_PROG_TEST_RUN) and report the mean\n"
    "                     time per run: thread CPU time (cpu_ns_per_run; leaves out preemption, as the\n"
    "                     kernel's test-run duration does) and wall time (ns_per_run)\n"
    "  --fire-timers      after the run, fire the bpf_timers it armed on a virtual clock that jumps to\n"
    "                     each expiry (at most 1000 callbacks); without it armed timers are only reported\n"
    "  --dump-maps        print every map's contents after the run (and the timers' callbacks)\n"
    "  --jit-dump         print the JIT's native code\n"
    "  --json             print one JSON object\n"
    "resource limits:\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bpfvm run: %s\n\n%s%s%s", message.c_str(), kRunUsage, kVerifierTimeUsage, kLimitsUsage);
  return kExitUsage;
}

}  // namespace

int cmd_run(Args args) {
  ArgReader r(args);
  std::string path, prog, mem_hex, mem_file, packet_file, ctx_file, kconfig, inner_map, engine_name = "interp";
  InputOptions input_options;
  ProgramOptions options = cli_program_options();
  VmOptions vm_options;
  std::string coverage_path;
  std::uint64_t repeat = 0;
  bool json = false, dump_maps = false, jit_dump = false, fire_timers = false;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kRunUsage, stdout);
      std::fputs(kVerifierTimeUsage, stdout);
      std::fputs(kLimitsUsage, stdout);
      return kExitOk;
    }
    if (r.option("--prog", prog) || r.option("--mem", mem_hex) || r.option("--mem-file", mem_file) ||
        r.option("--packet", packet_file) || r.option("--ctx", ctx_file) || r.option("--engine", engine_name) ||
        r.option("--coverage", coverage_path) ||
        r.option("--type", input_options.type) || r.option("--btf", input_options.btf_path) ||
        r.count("--budget", options.budget_insns) || r.count("--repeat", repeat) ||
        limit_option(r, vm_options, options) || r.positional(path))
      continue;
    if (r.option("--kconfig", kconfig)) {
      if (!add_kconfig(input_options, kconfig)) return usage_error("--kconfig takes KEY=VALUE, not '" + kconfig + "'");
      continue;
    }
    if (r.option("--inner-map", inner_map)) {
      if (!add_inner_map(input_options, inner_map)) return usage_error("--inner-map takes OUTER=MAP, not '" + inner_map + "'");
      continue;
    }
    if (r.flag("--checked")) options.checked = true;
    else if (r.flag("--no-verify")) options.verify = false;
    else if (r.flag("--json")) json = true;
    else if (r.flag("--dump-maps")) dump_maps = true;
    else if (r.flag("--fire-timers")) fire_timers = true;
    else if (r.flag("--jit-dump")) jit_dump = true;
    else r.unknown();
  }
  if (!r.error().empty()) return usage_error(r.error());
  if (path.empty()) return usage_error("missing PROGRAM");
  if (repeat > std::numeric_limits<std::uint32_t>::max())
    return usage_error("--repeat is at most 4294967295 (BPF_PROG_TEST_RUN's repeat is a u32)");
  if (!mem_hex.empty() && !mem_file.empty()) return usage_error("--mem and --mem-file exclude each other");
  if (engine_name == "jit") options.engine = Engine::Jit;
  else if (engine_name == "jit-opt") options.engine = Engine::JitOptimized;
  else if (engine_name != "interp") return usage_error("unknown engine '" + engine_name + "' (interp|jit|jit-opt)");
  if (!coverage_path.empty() && options.engine != Engine::Interpreter) return usage_error("--coverage needs --engine interp");
  options.coverage = !coverage_path.empty();
  if (!mem_hex.empty()) {
    auto bytes = parse_hex_text(mem_hex);
    if (!bytes) return usage_error("--mem: " + bytes.error().reason);
    input_options.mem = std::move(*bytes);
  }
  auto fail = [&](const std::string& file, const Error& e) {
    std::fprintf(stderr, "%s\n", file_error(file, e).c_str());
    return kExitError;
  };
  std::vector<std::uint8_t> mem_bytes, packet, ctx;
  for (auto [file, out] : {std::pair{&mem_file, &mem_bytes}, std::pair{&packet_file, &packet}, std::pair{&ctx_file, &ctx}}) {
    if (file->empty()) continue;
    auto bytes = read_file_bytes(*file);
    if (!bytes) return fail(*file, bytes.error());
    *out = std::move(*bytes);
  }
  if (!mem_file.empty()) input_options.mem = mem_bytes;

  Vm vm(vm_options);
  // --fire-timers: a virtual clock (from the host's now) that bpfvm moves to each timer's expiry.
  std::uint64_t virtual_now_ns = 0;
  if (fire_timers) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    virtual_now_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
    vm.set_clock([&virtual_now_ns] { return virtual_now_ns; });
  }
  auto input = open_input(vm, path, input_options);
  if (!input) return fail(path, input.error());
  auto name = pick_program(input->object, prog);
  if (!name) return fail(path, name.error());
  options.type = input->elf_type;
  if (!options.verify) std::fprintf(stderr, "bpfvm: warning: running '%s' without verification\n", name->c_str());
  auto program = input->object.load(*name, options);
  if (!program) return fail(path, program.error());
  if (jit_dump) {
    auto listing = program->native_listing();
    if (!listing) return fail(path, listing.error());
    std::fputs(listing->c_str(), stdout);
  }
  // --packet gives a packet program its bytes whatever the program came from (.o, .s, .bin, .data).
  const auto& data = input->is_elf || !packet_file.empty() ? packet : input->mem;
  std::optional<fuzz::CoverageReport> coverage;
  if (options.coverage) coverage.emplace(*program);
  auto out = program->run(RunInput{data, ctx, static_cast<std::uint32_t>(repeat ? repeat : 1), nullptr,
                                   coverage ? coverage->counters() : std::span<std::uint32_t>{}});
  if (coverage && !write_run_coverage(*coverage, coverage_path, *name, repeat ? repeat : 1)) return kExitError;
  if (!out) return fail(path, out.error());
  // bpf_timer callbacks run only when asked (Vm::run_due_timers): with --fire-timers, each armed timer
  // in expiry order (callbacks that re-arm fire again, up to kMaxTimerCallbacks); else only reported.
  constexpr std::size_t kMaxTimerCallbacks = 1000;
  std::size_t timers_fired = 0;
  while (fire_timers && timers_fired < kMaxTimerCallbacks) {
    const auto expiry = vm.next_timer_expiry();
    if (!expiry) break;
    virtual_now_ns = std::max(virtual_now_ns, *expiry);
    auto fired = vm.run_due_timers();
    if (!fired) return fail(path, fired.error());
    timers_fired += *fired;
  }
  const auto still_armed = vm.next_timer_expiry();

  const bool packet_program = program->type().entry == ProgramType::Entry::Context && !out->data_out.empty();
  // A context the program stored into (cgroup_sock's mark, an skb's cb[]): the bytes after the run. A
  // packet program run without --ctx starts from test-run's defaults (ifindex, wire_len...), so the
  // text output shows its context only when --ctx gave one; --json always carries it.
  std::vector<std::uint8_t> ctx_padded = ctx;
  ctx_padded.resize(std::max(ctx.size(), out->ctx_out.size()), 0);
  const bool ctx_changed = !out->ctx_out.empty() && (!packet_program || !ctx.empty()) && out->ctx_out != ctx_padded;
  if (json) {
    std::printf("{\"program\": \"%s\", \"r0\": \"0x%llx\", \"retval\": %u, \"insns_executed\": %llu, \"engine\": \"%s\"",
                name->c_str(), static_cast<unsigned long long>(out->r0), out->retval,
                static_cast<unsigned long long>(out->insns_executed), engine_name.c_str());
    static constexpr const char* kTierNames[] = {"interpreter", "baseline", "optimized"};
    std::printf(", \"tier\": \"%s\"", kTierNames[static_cast<int>(program->jit_tier())]);
    if (repeat)
      std::printf(", \"repeat\": %llu, \"ns_per_run\": %.1f, \"cpu_ns_per_run\": %.1f",
                  static_cast<unsigned long long>(repeat), out->ns_per_run, out->cpu_ns_per_run);
    if (packet_program) std::printf(", \"data_out_len\": %zu, \"data_out\": \"%s\"", out->data_out.size(), hex_bytes(out->data_out).c_str());
    if (!out->ctx_out.empty()) std::printf(", \"ctx_out\": \"%s\"", hex_bytes(out->ctx_out).c_str());
    if (out->redirect_ifindex) std::printf(", \"redirect_ifindex\": %u", *out->redirect_ifindex);
    if (const auto& r = out->redirect_map)
      std::printf(", \"redirect_map\": {\"map\": \"%s\", \"type\": %u, \"key\": %u, \"broadcast\": %s}",
                  r->map.c_str(), r->map_type, r->key, r->broadcast ? "true" : "false");
    if (out->msg_apply_bytes) std::printf(", \"msg_apply_bytes\": %u", *out->msg_apply_bytes);
    if (out->msg_cork_bytes) std::printf(", \"msg_cork_bytes\": %u", *out->msg_cork_bytes);
    if (out->selected_socket)
      std::printf(", \"selected_socket\": %llu", static_cast<unsigned long long>(*out->selected_socket));
    if (out->cgroup_retval) std::printf(", \"cgroup_retval\": %d", *out->cgroup_retval);
    if (fire_timers) std::printf(", \"timers_fired\": %zu", timers_fired);
    std::printf(", \"timers_armed\": %s", still_armed ? "true" : "false");
    if (dump_maps) std::printf(", \"maps\": %s", maps_json(input->object).c_str());
    std::printf("}\n");
  } else {
    std::printf("r0 = 0x%llx\n", static_cast<unsigned long long>(out->r0));
    if (packet_program)
      std::printf("%s: %zu bytes: %s\n", program->type().kernel_type == 22 ? "flow keys out" : "packet out",
                  out->data_out.size(), hex_bytes(out->data_out).c_str());
    if (ctx_changed) std::printf("context out: %zu bytes: %s\n", out->ctx_out.size(), hex_bytes(out->ctx_out).c_str());
    if (out->redirect_ifindex) std::printf("redirect to ifindex %u\n", *out->redirect_ifindex);
    if (const auto& r = out->redirect_map)
      std::printf("redirect through map %s key %u%s\n", r->map.c_str(), r->key, r->broadcast ? " (broadcast)" : "");
    if (out->msg_apply_bytes) std::printf("msg_apply_bytes %u\n", *out->msg_apply_bytes);
    if (out->msg_cork_bytes) std::printf("msg_cork_bytes %u\n", *out->msg_cork_bytes);
    if (out->selected_socket)
      std::printf("selected socket cookie %llu\n", static_cast<unsigned long long>(*out->selected_socket));
    if (out->cgroup_retval) std::printf("cgroup hook result %d (what the syscall gets)\n", *out->cgroup_retval);
    if (repeat)
      std::printf("%.1f ns per run over %llu runs (thread CPU time; wall time %.1f ns)\n", out->cpu_ns_per_run,
                  static_cast<unsigned long long>(repeat), out->ns_per_run);
    if (fire_timers) std::printf("bpf_timer: %zu callbacks fired\n", timers_fired);
    if (still_armed)
      std::printf("bpf_timer: timers still armed%s\n",
                  fire_timers ? " (stopped after 1000 callbacks)" : "; not fired (--fire-timers runs them)");
    if (dump_maps) std::fputs(maps_text(input->object).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace bpfvm::tools
