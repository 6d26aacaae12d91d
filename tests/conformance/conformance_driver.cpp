// conformance_driver: runs the eBPF conformance suite through a plugin executable, the way the
// reference bpf_conformance_runner does (one process per test, hex program on stdin).
//   conformance_driver PLUGIN SUITE_DIR [plugin options...]
// Positive tests (SUITE_DIR/tests/*.data) must print the expected r0; negative/unused-*.data
// programs and negative/error.data must be refused (non-zero exit). Prints one line per failure and a summary line.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vm/assembler.hpp"
#include "vm/data_file.hpp"
#include "vm/program.hpp"

namespace {

struct PluginRun {
  int status = -1;
  std::string out;
};

std::string hex_text(const std::vector<std::uint8_t>& bytes) {
  std::string s;
  char buf[8];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x  ", b);
    s += buf;
  }
  return s;
}

// Starts the plugin with argv, writes `input` to its stdin, returns exit status and stdout.
PluginRun run_plugin(const std::vector<std::string>& argv, const std::string& input) {
  int in_pipe[2], out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(in_pipe[1]);
    close(out_pipe[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (!input.empty()) (void)!write(in_pipe[1], input.data(), input.size());
  close(in_pipe[1]);
  PluginRun r;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

std::vector<std::filesystem::path> data_files(const std::filesystem::path& dir, const std::string& prefix) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".data" && e.path().filename().string().starts_with(prefix)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

constexpr int kMinTests = 313;  // /work/shared/conformance/tests
constexpr int kMinUnused = 45;  // negative/unused-*

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: conformance_driver PLUGIN SUITE_DIR [plugin options...]\n");
    return 2;
  }
  // Sanitizer reports exit 1 by default, the plugin's refusal status: give them their own (the
  // plugins this starts read it; this process parsed its options already).
  for (const char* var : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    const char* old = std::getenv(var);
    const std::string value = std::string(old && *old ? old : "") + (old && *old ? ":" : "") + "exitcode=86";
    setenv(var, value.c_str(), 1);
  }
  const std::string plugin = argv[1];
  const std::filesystem::path suite = argv[2];
  const std::vector<std::string> options(argv + 3, argv + argc);
  int passed = 0, failed = 0;

  for (const auto& path : data_files(suite / "tests", "")) {
    const auto name = path.filename().string();
    auto file = bpfvm::vm::read_data_file(path);
    if (!file) {
      std::printf("FAIL %s: cannot parse: %s\n", name.c_str(), file.error().message().c_str());
      ++failed;
      continue;
    }
    auto insns = bpfvm::vm::program_of(*file);
    if (!insns || !file->result) {
      std::printf("FAIL %s: %s\n", name.c_str(), insns ? "no expected result" : insns.error().message().c_str());
      ++failed;
      continue;
    }
    std::vector<std::string> args{plugin};
    if (!file->mem.empty()) args.push_back(hex_text(file->mem));
    args.insert(args.end(), options.begin(), options.end());
    const auto run = run_plugin(args, hex_text(bpfvm::vm::encode_program(*insns)) + "\n");
    unsigned long long got = 0;
    const bool ok = run.status == 0 && std::sscanf(run.out.c_str(), "%llx", &got) == 1 && got == *file->result;
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAIL %s: expected 0x%llx, plugin exited %d with: %s", name.c_str(),
                  static_cast<unsigned long long>(*file->result), run.status, run.out.c_str());
      if (run.out.empty() || run.out.back() != '\n') std::printf("\n");
    }
  }

  int refused = 0, accepted = 0;
  // negative/error.data (`or %r0, %r10`: r0 read before it is written) must be refused too: the
  // plugin verifies by default.
  auto must_refuse = data_files(suite / "negative", "unused-");
  if (std::filesystem::exists(suite / "negative" / "error.data")) must_refuse.push_back(suite / "negative" / "error.data");
  for (const auto& path : must_refuse) {
    auto file = bpfvm::vm::read_data_file(path);
    auto insns = file ? bpfvm::vm::program_of(*file) : bpfvm::Result<std::vector<bpfvm::vm::Insn>>(file.error());
    if (!insns) {
      std::printf("FAIL %s: cannot parse: %s\n", path.filename().c_str(), insns.error().message().c_str());
      ++accepted;
      continue;
    }
    std::vector<std::string> args{plugin};
    args.insert(args.end(), options.begin(), options.end());
    const auto run = run_plugin(args, hex_text(bpfvm::vm::encode_program(*insns)) + "\n");
    // A refusal is the plugin's own error exit (status 1, after its one-line reason on stderr); a
    // crash (signal, status 128 here) or any other status is a failure, not a refusal.
    if (run.status == 1) {
      ++refused;
    } else {
      ++accepted;
      std::printf("FAIL %s: must be refused (exit 1), plugin exited %d and printed %s", path.filename().c_str(),
                  run.status, run.out.c_str());
      if (run.out.empty() || run.out.back() != '\n') std::printf("\n");
    }
  }
  std::printf("negative/unused-* and error.data: %d refused, %d accepted\n", refused, accepted);
  std::printf("conformance: %d passed, %d failed\n", passed + refused, failed + accepted);
  // The suite as DEVELOPERS.md pins it: a missing or emptied directory must not read as a pass.
  if (passed + failed < kMinTests || refused + accepted < kMinUnused) {
    std::printf("FAIL: found %d tests and %d negative/unused-* files in %s, want at least %d and %d\n",
                passed + failed, refused + accepted, suite.c_str(), kMinTests, kMinUnused);
    return 1;
  }
  return failed + accepted == 0 ? 0 : 1;
}
