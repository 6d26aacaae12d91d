// bpf_get_retval / bpf_set_retval against the kernel's cgroup hook: tests/runtime/programs/
// cgroup_retval.bpf.c's sock_create program is attached (BPF_CGROUP_INET_SOCK_CREATE) to a child
// cgroup this process moves into; for each mode the process opens a UDP socket, and socket()'s errno
// is what the hook gave the syscall. bpfvm runs the same program on a struct bpf_sock context and must
// read the same retvals and report that errno as RunOutput::cgroup_retval, on every engine.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/kernel/skipped_cases.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "tests/runtime/own_cgroup.hpp"

namespace bpfvm::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kObject = runtime_object_path("cgroup_retval");
constexpr std::uint32_t kModes = 8;

struct Seen {
  std::uint32_t mode, calls;
  std::int64_t initial, after, set_result;
  bool operator==(const Seen&) const = default;
};

// The .bss map's value (the program's only global, `seen`).
const loader::MapSpec* bss_spec(const KernelObject& k, std::string& name) {
  for (const auto& spec : k.map_specs())
    if (spec.name.ends_with(".bss")) {
      name = spec.name;
      return &spec;
    }
  return nullptr;
}

struct KernelAnswer {
  Seen seen;
  int socket_errno;  // 0: socket() succeeded
};

}  // namespace

TEST_CASE("bpf_get_retval / bpf_set_retval: the values read and the hook's errno are the kernel's sock_create answers") {
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  std::string bss;
  REQUIRE(bss_spec(*kernel, bss) != nullptr);
  const std::string own = own_cgroup2_dir();
  if (own.empty()) return skip_case("cgroup retval differential: no cgroup v2 mount to attach the kernel's program to");
  const std::string child = own + "/bpfvm_cgroup_retval_" + std::to_string(::getpid());
  REQUIRE((::mkdir(child.c_str(), 0755) == 0 || errno == EEXIST));
  std::vector<KernelAnswer> want;
  {
    Fd cgroup(::open(child.c_str(), O_RDONLY | O_DIRECTORY));
    REQUIRE(cgroup.get() >= 0);
    bpf_attr attach{};
    attach.target_fd = static_cast<std::uint32_t>(cgroup.get());
    attach.attach_bpf_fd = static_cast<std::uint32_t>(kernel->program("sock_create_retval")->get());
    attach.attach_type = BPF_CGROUP_INET_SOCK_CREATE;
    REQUIRE(kernel_bpf(BPF_PROG_ATTACH, attach) == 0);
    const bool moved = move_to_cgroup(child);
    const std::uint32_t zero = 0;
    for (std::uint32_t mode = 0; moved && mode < kModes; ++mode) {
      Seen seen{mode, 0, 0, 0, 0};
      REQUIRE(map_update(*kernel->map(bss), {reinterpret_cast<const std::uint8_t*>(&zero), 4},
                         {reinterpret_cast<const std::uint8_t*>(&seen), sizeof seen}) == 0);
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      const int err = fd < 0 ? errno : 0;
      if (fd >= 0) ::close(fd);
      REQUIRE(map_lookup(*kernel->map(bss), {reinterpret_cast<const std::uint8_t*>(&zero), 4},
                         {reinterpret_cast<std::uint8_t*>(&seen), sizeof seen}) == 0);
      want.push_back({seen, err});
    }
    CHECK(move_to_cgroup(own));
    CHECK(kernel_bpf(BPF_PROG_DETACH, attach) == 0);
    REQUIRE(moved);
  }
  ::rmdir(child.c_str());
  // What 6.18 answers, written out: a change on either side shows here too.
  const int kErrnos[kModes] = {0, EPERM, EACCES, EACCES, EPERM, EPERM, 4095, 0};
  for (std::uint32_t mode = 0; mode < kModes; ++mode) {
    INFO("mode " << mode);
    CHECK(want[mode].seen.calls == 1);
    CHECK(want[mode].seen.initial == 0);
    CHECK(want[mode].socket_errno == kErrnos[mode]);
  }

  for (const Engine engine : {Engine::Interpreter, Engine::Jit, Engine::JitOptimized}) {
    INFO("engine " << static_cast<int>(engine));
    Vm vm;
    auto object = vm.open_elf_file(kObject);
    REQUIRE(object.has_value());
    auto program = object->load("sock_create_retval", ProgramOptions{.engine = engine});
    INFO((program ? std::string() : program.error().message()));
    REQUIRE(program.has_value());
    auto globals = object->map(bss);
    REQUIRE(globals.has_value());
    for (std::uint32_t mode = 0; mode < kModes; ++mode) {
      INFO("mode " << mode);
      Seen seen{mode, 0, 0, 0, 0};
      REQUIRE(globals->update(0u, seen).has_value());
      auto out = program->run(RunInput{.ctx = Bytes(sizeof(bpf_sock), 0)});
      INFO((out ? std::string() : out.error().message()));
      REQUIRE(out.has_value());
      REQUIRE(globals->lookup(0u, seen).has_value());
      CHECK(seen == want[mode].seen);
      REQUIRE(out->cgroup_retval.has_value());
      CHECK(*out->cgroup_retval == -want[mode].socket_errno);
    }
  }
}

}  // namespace bpfvm::testing
