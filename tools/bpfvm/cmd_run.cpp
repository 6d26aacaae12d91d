// `bpfvm run`: run a program once (or --repeat N times) and print r0.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/program_input.hpp"
#include "tools/common/engine_runner.hpp"
#include "tools/common/hex_text.hpp"

namespace bpfvm::tools {

namespace {

constexpr const char* kRunUsage =
    "usage: bpfvm run PROGRAM [options]\n"
    "  PROGRAM            .s assembly, .bin raw bytecode or conformance .data file\n"
    "  --mem HEX          input buffer as hex bytes (r1 = its address, r2 = its length)\n"
    "  --mem-file FILE    input buffer from a file\n"
    "  --engine E         interp (default) or jit\n"
    "  --budget N         stop with an error after N instructions\n"
    "  --checked          check every load/store against the stack and the input buffer\n"
    "  --repeat N         run N times and report ns_per_run\n"
    "  --json             print one JSON object\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bpfvm run: %s\n\n%s", message.c_str(), kRunUsage);
  return kExitUsage;
}

std::optional<std::uint64_t> parse_count(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

int cmd_run(Args args) {
  std::string path, engine_name = "interp";
  std::optional<std::string> mem_hex, mem_file;
  vm::ExecOptions options;
  std::uint64_t repeat = 0;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto a = args[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kRunUsage, stdout);
      return kExitOk;
    } else if (a == "--mem" || a == "--mem-file" || a == "--engine" || a == "--budget" || a == "--repeat") {
      auto v = value();
      if (!v) return usage_error(std::string(a) + " needs a value");
      if (a == "--mem") mem_hex = std::string(*v);
      else if (a == "--mem-file") mem_file = std::string(*v);
      else if (a == "--engine") engine_name = std::string(*v);
      else {
        auto n = parse_count(*v);
        if (!n) return usage_error(std::string(a) + " takes a whole number, not '" + std::string(*v) + "'");
        (a == "--budget" ? options.budget_insns : repeat) = *n;
      }
    } else if (a == "--checked") {
      options.checked = true;
    } else if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + std::string(a));
    } else if (path.empty()) {
      path = std::string(a);
    } else {
      return usage_error("more than one PROGRAM");
    }
  }
  if (path.empty()) return usage_error("missing PROGRAM");
  if (mem_hex && mem_file) return usage_error("--mem and --mem-file exclude each other");
  auto engine = parse_engine(engine_name);
  if (!engine) return usage_error(engine.error().reason);

  auto input = load_program_input(path);
  if (!input) {
    std::fprintf(stderr, "%s\n", file_error(path, input.error()).c_str());
    return kExitError;
  }
  if (mem_hex) {
    auto bytes = parse_hex_text(*mem_hex);
    if (!bytes) return usage_error("--mem: " + bytes.error().reason);
    input->mem = std::move(*bytes);
  } else if (mem_file) {
    auto bytes = read_file_bytes(*mem_file);
    if (!bytes) {
      std::fprintf(stderr, "%s\n", bytes.error().message().c_str());
      return kExitError;
    }
    input->mem = std::move(*bytes);
  }

  EngineRunner runner;
  if (auto ready = runner.prepare(input->program, *engine); !ready) {
    std::fprintf(stderr, "%s\n", file_error(path, ready.error()).c_str());
    return kExitError;
  }
  auto result = runner.run(input->mem, options);
  if (!result) {
    std::fprintf(stderr, "%s\n", file_error(path, result.error()).c_str());
    return kExitError;
  }
  std::optional<double> ns_per_run;
  if (repeat > 0) {
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t k = 0; k < repeat; ++k) {
      auto again = runner.run(input->mem, options);
      if (!again) {
        std::fprintf(stderr, "%s\n", file_error(path, again.error()).c_str());
        return kExitError;
      }
    }
    const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    ns_per_run = ns / static_cast<double>(repeat);
  }
  const auto r0 = static_cast<unsigned long long>(result->r0);
  if (json) {
    std::printf("{\"r0\": \"0x%llx\", \"insns_executed\": %llu, \"engine\": \"%s\"", r0,
                static_cast<unsigned long long>(result->insns_executed), engine_name.c_str());
    if (ns_per_run) std::printf(", \"repeat\": %llu, \"ns_per_run\": %.1f", static_cast<unsigned long long>(repeat), *ns_per_run);
    std::printf("}\n");
  } else {
    std::printf("r0 = 0x%llx\n", r0);
    if (ns_per_run) std::printf("%.1f ns per run over %llu runs\n", *ns_per_run, static_cast<unsigned long long>(repeat));
  }
  return kExitOk;
}

}  // namespace bpfvm::tools
