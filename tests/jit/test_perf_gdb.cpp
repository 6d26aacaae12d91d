// Observability of JIT code: perf map lines (/tmp/perf-PID.map), GDB JIT interface registration and
// perf samples attributed to the program. One executable, one ctest entry per mode:
//   test_perf_gdb perf-map  the map gets "START SIZE name" naming the exact code (JitOptions and the
//                           public ProgramOptions::jit_register_with_debuggers)
//   test_perf_gdb gdb       `gdb -batch` on a child of this executable: `info symbol <code address>`
//                           names the program (exit 77 = skipped when gdb is missing or cannot trace)
//   test_perf_gdb perf      `perf record` of a child running the program: `perf report` names it
//                           (exit 77 = skipped when perf is missing or may not sample)
// The child modes (--gdb-child, --perf-child) are what the debugger/profiler runs.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "jit/jit_program.hpp"
#include "vm/program.hpp"

using namespace bpfvm;

// The address gdb is asked about: set by the gdb child before it stops itself. Global and extern "C"
// so gdb finds it by its plain name in the executable's symbol table.
extern "C" {
volatile std::uint64_t bpfvm_test_code_address = 0;
}

namespace {

constexpr int kSkip = 77;
constexpr const char* kProgramAsm = "mov %r0, 0\nmov %r1, 1000\nloop:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, loop\nexit\n";

int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

struct PerfLine {
  std::uint64_t start = 0, size = 0;
};

// The last line of this process's perf map naming `symbol` exactly.
std::optional<PerfLine> find_perf_line(const std::string& symbol) {
  std::ifstream in("/tmp/perf-" + std::to_string(getpid()) + ".map");
  std::optional<PerfLine> found;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string start, size, name;
    fields >> start >> size;
    std::getline(fields >> std::ws, name);
    if (name == symbol) found = PerfLine{std::stoull(start, nullptr, 16), std::stoull(size, nullptr, 16)};
  }
  return found;
}

// True when [start, start + size) lies in one executable mapping of this process.
bool in_executable_mapping(std::uint64_t start, std::uint64_t size) {
  std::ifstream in("/proc/self/maps");
  for (std::string line; std::getline(in, line);) {
    std::uint64_t lo = 0, hi = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi, perms) != 3) continue;
    if (perms[2] == 'x' && start >= lo && start + size <= hi) return true;
  }
  return false;
}

Result<Program> load_registered(Vm& vm, const std::string& name, std::optional<Object>& keep) {
  auto obj = vm.open_assembly(kProgramAsm, ProgramType::plain(), name);
  if (!obj) return std::move(obj).error();
  keep = std::move(*obj);
  ProgramOptions po;
  po.engine = Engine::Jit;
  po.jit_register_with_debuggers = true;
  return keep->load(keep->programs().front().name, po);
}

int perf_map_mode() {
  // JitOptions: the line must name the exact code block of the variant.
  auto insns = vm::decode_program(std::vector<vm::Insn>{{0xb7, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}}, "probe");
  if (!insns) return std::printf("FAIL: decode: %s\n", insns.error().message().c_str()), 1;
  vm::HelperRegistry helpers;
  jit::JitOptions jo;
  jo.name = "bpfvm_perf_probe";
  jo.register_with_debuggers = true;
  auto jp = jit::JitProgram::compile(*insns, helpers, {}, jo);
  if (!jp) return std::printf("FAIL: compile: %s\n", jp.error().message().c_str()), 1;
  const auto code = jp->code(jit::Variant::Fast);
  const auto line = find_perf_line("bpfvm_perf_probe_fast");
  check(line.has_value(), "perf map names bpfvm_perf_probe_fast");
  if (line) {
    check(line->start == reinterpret_cast<std::uintptr_t>(code.data()), "its start is the fast variant's code address");
    check(line->size == code.size(), "its size is the code size (" + std::to_string(code.size()) + " bytes)");
    check(in_executable_mapping(line->start, line->size), "the range lies in an executable mapping");
  }

  // The public API: ProgramOptions::jit_register_with_debuggers.
  Vm vm;
  std::optional<Object> keep;
  auto prog = load_registered(vm, "bpfvm_api_probe", keep);
  if (!prog) return std::printf("FAIL: load: %s\n", prog.error().message().c_str()), 1;
  auto run = prog->run(std::span<const std::uint8_t>{});
  check(run && run->r0 == 500500, "the registered program runs (r0 = 500500)");
  const auto api_line = find_perf_line(prog->name() + "_fast");
  check(api_line.has_value(), "perf map names " + prog->name() + "_fast");
  if (api_line) {
    check(api_line->size > 0 && api_line->size < (1u << 20), "its size is plausible");
    check(in_executable_mapping(api_line->start, api_line->size), "the range lies in an executable mapping");
  }
  std::remove(("/tmp/perf-" + std::to_string(getpid()) + ".map").c_str());
  return failures == 0 ? 0 : 1;
}

// Loads a registered program, publishes its code address and stops for gdb (unless `trap` is off:
// the sanity run without a debugger).
int gdb_child(bool trap) {
  Vm vm;
  std::optional<Object> keep;
  auto prog = load_registered(vm, "bpfvm_gdb_probe", keep);
  if (!prog) return std::fprintf(stderr, "load: %s\n", prog.error().message().c_str()), 1;
  const auto line = find_perf_line(prog->name() + "_fast");
  if (!line) return std::fprintf(stderr, "no perf map line\n"), 1;
  bpfvm_test_code_address = line->start + line->size / 2;  // inside the function, not at its edge
  std::remove(("/tmp/perf-" + std::to_string(getpid()) + ".map").c_str());
  std::printf("child: %s_fast at 0x%" PRIx64 "\n", prog->name().c_str(), line->start);
  std::fflush(stdout);
  if (trap) raise(SIGTRAP);  // gdb stops here and asks about the address
  return 0;
}

// Runs the program in a loop for about half a second (what perf samples).
int perf_child() {
  Vm vm;
  std::optional<Object> keep;
  auto prog = load_registered(vm, "bpfvm_perf_hot", keep);
  if (!prog) return std::fprintf(stderr, "load: %s\n", prog.error().message().c_str()), 1;
  for (int i = 0; i < 200; ++i)
    if (!prog->run(RunInput{{}, {}, 2000, nullptr})) return 1;
  std::printf("perf child pid %d\n", static_cast<int>(getpid()));  // its perf map is removed after the report
  return 0;
}

std::string self_path() {
  char buf[4096];
  const auto n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, std::size_t(n)) : std::string("/proc/self/exe");
}

bool have_program(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Output (stdout and stderr) and exit status of a shell command.
std::pair<std::string, int> capture(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {"popen failed", -1};
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

int gdb_mode() {
  if (!have_program("gdb")) return std::printf("SKIP: gdb is not installed\n"), kSkip;
  // Without a debugger first: a child that cannot load its program is a failure, not a skip.
  if (auto [out, status] = capture("'" + self_path() + "' --gdb-child --no-trap"); status != 0)
    return std::printf("FAIL: the child alone: %s", out.c_str()), 1;
  const std::string cmd =
      "gdb -batch -nx -q -iex 'set debuginfod enabled off' -ex 'set pagination off' -ex 'set startup-with-shell off'"
      " -ex run -ex 'info symbol *(unsigned long *)&bpfvm_test_code_address' -ex kill --args '" +
      self_path() + "' --gdb-child";
  auto [out, status] = capture(cmd);
  std::printf("$ %s\n%s", cmd.c_str(), out.c_str());
  if (out.find("child: ") == std::string::npos) {
    // The child never ran: tracing is not allowed here (ptrace refused in a container, ...).
    return std::printf("SKIP: gdb could not run the child (status %d)\n", status), kSkip;
  }
  check(out.find("SIGTRAP") != std::string::npos, "gdb stopped the child at its SIGTRAP");
  // "bpfvm_gdb_probe_fast + 140 in section .text of <in-memory@0x...>": the symfile gdb read from
  // the JIT interface names the code.
  const auto at = out.find("\nbpfvm_gdb_probe_fast + ");
  check(at != std::string::npos && out.find(" in section .text of <in-memory@", at) != std::string::npos,
        "info symbol names the JIT code bpfvm_gdb_probe_fast (from the in-memory symfile)");
  return failures == 0 ? 0 : 1;
}

int perf_mode() {
  if (!have_program("perf")) return std::printf("SKIP: perf is not installed\n"), kSkip;
  if (auto [out, status] = capture("'" + self_path() + "' --perf-child"); status != 0)
    return std::printf("FAIL: the child alone: %s", out.c_str()), 1;
  else if (const auto at = out.find("perf child pid "); at != std::string::npos)
    std::remove(("/tmp/perf-" + std::to_string(std::atoi(out.c_str() + at + 15)) + ".map").c_str());
  char dir_template[] = "/tmp/bpfvm_perf_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return std::printf("FAIL: mkdtemp\n"), 1;
  const std::string data = std::string(dir) + "/perf.data";
  const std::string record = "perf record -q -e cpu-clock -F 2000 -o '" + data + "' -- '" + self_path() + "' --perf-child";
  auto [rec_out, rec_status] = capture(record);
  std::printf("$ %s\n%s", record.c_str(), rec_out.c_str());
  if (rec_status != 0) {
    std::system(("rm -rf '" + std::string(dir) + "'").c_str());
    return std::printf("SKIP: perf record failed (status %d): sampling not permitted here?\n", rec_status), kSkip;
  }
  const std::string report = "perf report -i '" + data + "' --stdio --sort sym 2>/dev/null | grep -v '^#'";
  auto [rep_out, rep_status] = capture(report);
  std::printf("$ %s\n%s", report.c_str(), rep_out.c_str());
  std::system(("rm -rf '" + std::string(dir) + "'").c_str());
  (void)rep_status;
  if (const auto at = rec_out.find("perf child pid "); at != std::string::npos)
    std::remove(("/tmp/perf-" + std::to_string(std::atoi(rec_out.c_str() + at + 15)) + ".map").c_str());
  check(rep_out.find("bpfvm_perf_hot_fast") != std::string::npos, "perf report attributes samples to bpfvm_perf_hot_fast");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "perf-map";
  if (mode == "--gdb-child") return gdb_child(argc < 3 || std::string(argv[2]) != "--no-trap");
  if (mode == "--perf-child") return perf_child();
  if (mode == "perf-map") return perf_map_mode();
  if (mode == "gdb") return gdb_mode();
  if (mode == "perf") return perf_mode();
  std::fprintf(stderr, "usage: %s [perf-map|gdb|perf]\n", argv[0]);
  return 2;
}
