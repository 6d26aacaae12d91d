// `bpfvm objdump` and `bpfvm verify`: the loader's and the verifier's view of a program.
#include <cstdio>
#include <fstream>
#include <string>

#include "tools/bpfvm/commands.hpp"
#include "tools/bpfvm/input.hpp"
#include "tools/common/arg_reader.hpp"

namespace bpfvm::tools {

namespace {
constexpr const char* kObjdumpUsage =
    "usage: bpfvm objdump FILE.o [--json] [--btf FILE]\n"
    "  Programs (name, section, type, instructions), maps (type, key/value size, entries, flags),\n"
    "  relocations and a BTF summary.\n";
constexpr const char* kVerifyUsage =
    "usage: bpfvm verify PROGRAM [--prog NAME] [--type SECTION] [--log-level 0|1|2] [--unprivileged]\n"
    "                    [--json] [--dot CFG.dot] [--btf FILE] [--mem-size N] [--inner-map OUTER=MAP]\n"
    "                    [--kconfig KEY=VALUE]\n"
    "  Exit 0 when the verifier accepts the program, 1 when it rejects it (with the reason).\n"
    "  --type gives the program type by section name (xdp, socket, tc, ...); for an ELF object it\n"
    "  replaces the type the section name gives. --btf defaults to /sys/kernel/btf/vmlinux for CO-RE.\n"
    "  --inner-map OUTER=MAP: MAP (another map of the object) is the inner map template of map-in-map\n"
    "  OUTER, whose definition names none (a 20-byte struct bpf_map_def).\n"
    "  --kconfig KEY=VALUE: a __kconfig extern's value, as for `bpfvm run`.\n"
    "resource limits:\n";

int usage(const char* text, const std::string& message) {
  std::fprintf(stderr, "%s\n\n%s", message.c_str(), text);
  return kExitUsage;
}

// Messages can quote untrusted bytes (section and program names): bytes >= 0x80 become \u00XX, so the
// output is valid JSON even where they are not UTF-8.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (u < 0x20) out += ' ';
    else if (u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else out += c;
  }
  return out + "\"";
}
}  // namespace

int cmd_objdump(Args args) {
  ArgReader r(args);
  std::string in;
  InputOptions input_options;
  bool json = false;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kObjdumpUsage, stdout);
      return kExitOk;
    }
    if (r.option("--btf", input_options.btf_path) || r.positional(in)) continue;
    if (r.flag("--json")) json = true;
    else r.unknown();
  }
  if (!r.error().empty()) return usage(kObjdumpUsage, "bpfvm objdump: " + r.error());
  if (in.empty()) return usage(kObjdumpUsage, "bpfvm objdump: missing FILE");
  input_options.create_maps = false;  // listing an object allocates none of its maps
  Vm vm;
  input_options.core_without_target = true;  // a report needs no target BTF: relocations show unresolved
  auto input = open_input(vm, in, input_options);
  if (!input) return std::fprintf(stderr, "%s\n", file_error(in, input.error()).c_str()), kExitError;
  std::fputs(input->object.report(json).c_str(), stdout);
  return kExitOk;
}

int cmd_verify(Args args) {
  ArgReader r(args);
  std::string in, prog, dot_path, inner_map, kconfig, log_level = "0";
  std::uint64_t mem_size = 0;
  InputOptions input_options;
  ProgramOptions options = cli_program_options();
  VmOptions vm_options;
  bool json = false;
  while (!r.done() && r.error().empty()) {
    if (r.flag("--help") || r.flag("-h")) {
      std::fputs(kVerifyUsage, stdout);
      std::fputs(kVerifierTimeUsage, stdout);
      std::fputs(kLimitsUsage, stdout);
      return kExitOk;
    }
    if (r.option("--prog", prog) || r.option("--type", input_options.type) || r.option("--log-level", log_level) ||
        r.option("--dot", dot_path) || r.option("--btf", input_options.btf_path) || r.count("--mem-size", mem_size) ||
        limit_option(r, vm_options, options) || r.positional(in))
      continue;
    if (r.option("--inner-map", inner_map)) {
      if (!add_inner_map(input_options, inner_map))
        return usage(kVerifyUsage, "bpfvm verify: --inner-map takes OUTER=MAP, not '" + inner_map + "'");
      continue;
    }
    if (r.option("--kconfig", kconfig)) {
      if (!add_kconfig(input_options, kconfig))
        return usage(kVerifyUsage, "bpfvm verify: --kconfig takes KEY=VALUE, not '" + kconfig + "'");
      continue;
    }
    if (r.flag("--json")) json = true;
    else if (r.flag("--unprivileged")) options.unprivileged = true;
    else r.unknown();
  }
  if (!r.error().empty()) return usage(kVerifyUsage, "bpfvm verify: " + r.error());
  if (in.empty()) return usage(kVerifyUsage, "bpfvm verify: missing PROGRAM");
  if (log_level != "0" && log_level != "1" && log_level != "2") return usage(kVerifyUsage, "bpfvm verify: --log-level takes 0, 1 or 2");
  if (mem_size) input_options.mem = std::vector<std::uint8_t>(mem_size);
  input_options.verify_only = true;  // the verifier reads map definitions: no map memory, no cap
  Vm vm(vm_options);
  auto input = open_input(vm, in, input_options);
  if (!input) return std::fprintf(stderr, "%s\n", file_error(in, input.error()).c_str()), kExitError;
  auto name = pick_program(input->object, prog);
  if (!name) return std::fprintf(stderr, "%s\n", file_error(in, name.error()).c_str()), kExitError;
  options.type = input->elf_type;
  if (!dot_path.empty()) {
    auto dot = input->object.control_flow_dot(*name);
    std::ofstream out(dot_path);
    if (dot) out << *dot;
    if (!dot || !out) return std::fprintf(stderr, "%s: cannot write the CFG\n", dot_path.c_str()), kExitError;
  }
  std::string log;
  options.verifier_log_level = log_level[0] - '0';
  options.verifier_log = &log;
  auto program = input->object.load(*name, options);
  if (json) {
    std::printf("{\"program\": %s, \"accepted\": %s", json_string(*name).c_str(), program ? "true" : "false");
    if (program) {
      const auto& rep = program->verifier_report();
      std::printf(", \"insns_processed\": %llu, \"states_stored\": %llu, \"stack_depth\": %u, \"time_us\": %.1f, \"warnings\": [",
                  static_cast<unsigned long long>(rep.insns_processed), static_cast<unsigned long long>(rep.states_stored),
                  rep.stack_depth_bytes, rep.time_us);
      for (std::size_t i = 0; i < rep.warnings.size(); ++i) std::printf("%s%s", i ? ", " : "", json_string(rep.warnings[i]).c_str());
      std::printf("]");
    } else {
      std::printf(", \"pc\": %d, \"error\": %s", program.error().pc == kNoPc ? -1 : static_cast<int>(program.error().pc),
                  json_string(program.error().reason).c_str());
    }
    if (!log.empty()) std::printf(", \"log\": %s", json_string(log).c_str());
    std::printf("}\n");
    return program ? kExitOk : kExitError;
  }
  if (!log.empty()) std::fputs(log.c_str(), stdout);
  if (!program) {
    std::fprintf(stderr, "%s\n", file_error(in, program.error()).c_str());
    return kExitError;
  }
  const auto& rep = program->verifier_report();
  for (const auto& w : rep.warnings) std::printf("warning: %s\n", w.c_str());
  std::printf("%s: accepted (%llu insns processed, %llu states, stack %u bytes, %.0f us)\n", name->c_str(),
              static_cast<unsigned long long>(rep.insns_processed), static_cast<unsigned long long>(rep.states_stored),
              rep.stack_depth_bytes, rep.time_us);
  return kExitOk;
}

}  // namespace bpfvm::tools
