// The task and per-CPU helpers against the running kernel, through syscall programs that
// BPF_PROG_TEST_RUN runs in this process (tests/runtime/programs/task_helpers.bpf.c): each program
// reads its inputs from the context and writes its answers there, and the kernel's context after the
// run must equal bpfvm's on every engine. bpf_map_lookup_percpu_elem on PERCPU_ARRAY, PERCPU_HASH and
// LRU_PERCPU_HASH (values the host wrote per CPU, a write through the last CPU's pointer read back);
// bpf_get_current_cgroup_id and the ancestors at levels -1..11; bpf_send_signal(_thread) with signals
// 0, SIGUSR1/SIGUSR2 (blocked, then collected: which signal is pending for the process or the thread),
// 65 and 0xffffffff; bpf_get_netns_cookie of a tc and a cgroup_skb test run's skb and of NULL
// (netns_cookie.bpf.c).
#include <catch2/catch.hpp>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>  // mkdir
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/kernel/skipped_cases.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "tests/runtime/own_cgroup.hpp"

namespace bpfvm::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kObject = runtime_object_path("task_helpers");
constexpr Engine kEngines[] = {Engine::Interpreter, Engine::Jit, Engine::JitOptimized};

// BPF_PROG_TEST_RUN of a syscall program: the kernel copies the context back into ctx_in.
Bytes kernel_run(const Fd& prog, Bytes ctx) {
  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.test.prog_fd = static_cast<std::uint32_t>(prog.get());
  a.test.ctx_in = reinterpret_cast<std::uintptr_t>(ctx.data());
  a.test.ctx_size_in = static_cast<std::uint32_t>(ctx.size());
  INFO("BPF_PROG_TEST_RUN: " << errno_text(errno));
  REQUIRE(kernel_bpf(BPF_PROG_TEST_RUN, a) == 0);
  return ctx;
}

Bytes bpfvm_run(const Program& program, const Bytes& ctx) {
  auto out = program.run(RunInput{.ctx = ctx});
  INFO((out ? std::string() : out.error().message()));
  REQUIRE(out.has_value());
  return out->ctx_out;
}

template <class T>
Bytes bytes_of(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

template <class T>
T from_bytes(const Bytes& b) {
  T v{};
  REQUIRE(b.size() == sizeof v);
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

struct PercpuArgs {
  std::uint32_t nr_cpus, key;
  std::uint64_t out[3][2][6];
};

constexpr const char* kPercpuMaps[] = {"pcpu_array", "pcpu_hash", "lru_pcpu_hash"};
constexpr std::uint32_t kKey = 2;

// One u64 per CPU: key * 1000 + cpu + 1.
Bytes percpu_value(unsigned cpus) {
  std::vector<std::uint64_t> v(cpus);
  for (unsigned c = 0; c < cpus; ++c) v[c] = kKey * 1000 + c + 1;
  Bytes b(v.size() * 8);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

const Bytes kKeyBytes = bytes_of(kKey);

}  // namespace

TEST_CASE("bpf_map_lookup_percpu_elem: each CPU's value, NULL past the CPUs or for a missing key, as the kernel") {
  const unsigned cpus = possible_cpus();
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  for (const char* name : kPercpuMaps) REQUIRE(map_update(*kernel->map(name), kKeyBytes, percpu_value(cpus)) == 0);
  PercpuArgs in{};
  in.nr_cpus = cpus;
  in.key = kKey;
  const Bytes want = kernel_run(*kernel->program("percpu_lookups"), bytes_of(in));
  std::vector<Bytes> want_maps;
  for (const char* name : kPercpuMaps) {
    Bytes v(cpus * 8);
    REQUIRE(map_lookup(*kernel->map(name), kKeyBytes, v) == 0);
    want_maps.push_back(v);
  }
  // What 6.18 answers, written out: a change on either side shows here too.
  const auto answers = from_bytes<PercpuArgs>(want);
  for (int m = 0; m < 3; ++m) {
    INFO(kPercpuMaps[m]);
    CHECK(answers.out[m][0][0] == kKey * 1000 + 1);
    CHECK(answers.out[m][0][2] == kKey * 1000 + cpus);
    CHECK(answers.out[m][0][3] == 0xdead);
    CHECK(answers.out[m][0][5] == 0xdead);
    CHECK(answers.out[m][1][0] == 0xdead);
  }

  for (const auto& [engine, checked] : {std::pair{Engine::Interpreter, false}, std::pair{Engine::Jit, false},
                                        std::pair{Engine::JitOptimized, false}, std::pair{Engine::Interpreter, true},
                                        std::pair{Engine::Jit, true}}) {
    INFO("engine " << static_cast<int>(engine) << (checked ? ", checked" : ""));
    Vm vm(VmOptions{.nr_cpus = cpus});
    auto object = vm.open_elf_file(kObject);
    REQUIRE(object.has_value());
    for (const char* name : kPercpuMaps) {
      auto map = object->map(name);
      REQUIRE(map.has_value());
      REQUIRE(map->update(kKeyBytes, percpu_value(cpus)) == 0);
    }
    auto program = object->load("percpu_lookups", ProgramOptions{.engine = engine, .checked = checked});
    INFO((program ? std::string() : program.error().message()));
    REQUIRE(program.has_value());
    CHECK(bpfvm_run(*program, bytes_of(in)) == want);
    for (int m = 0; m < 3; ++m) {
      INFO(kPercpuMaps[m]);
      auto map = object->map(kPercpuMaps[m]);
      Bytes v(cpus * 8);
      REQUIRE(map->lookup(kKeyBytes, v) == 0);
      CHECK(v == want_maps[static_cast<std::size_t>(m)]);  // +100 on the last CPU's slot
    }
  }
}

struct CgroupArgs {
  std::uint64_t id, negative, ancestor[12];
};

TEST_CASE("bpf_get_current_cgroup_id and _ancestor_cgroup_id: this process's cgroup v2 chain, as the kernel") {
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  const Bytes want = kernel_run(*kernel->program("cgroup_ids"), Bytes(sizeof(CgroupArgs), 0xee));
  const auto ids = from_bytes<CgroupArgs>(want);
  CHECK(ids.id != 0);
  CHECK(ids.negative == 0);
  CHECK(ids.ancestor[0] == 1);  // the root cgroup
  for (const Engine engine : kEngines) {
    INFO("engine " << static_cast<int>(engine));
    Vm vm;
    auto object = vm.open_elf_file(kObject);
    REQUIRE(object.has_value());
    auto program = object->load("cgroup_ids", ProgramOptions{.engine = engine});
    INFO((program ? std::string() : program.error().message()));
    REQUIRE(program.has_value());
    CHECK(bpfvm_run(*program, Bytes(sizeof(CgroupArgs), 0xee)) == want);
  }
}

// The process moves to a child cgroup after its Vm and Runners were made and had run: their next runs
// (once helpers::ProcessIdentity::kCgroupRereadNs has passed) report the child's chain, as the kernel
// reports at each call. Before, the chain was read when the Vm was made and never again.
TEST_CASE("bpf_get_current_cgroup_id follows a move to another cgroup after the Vm was made, as the kernel") {
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  const std::string own = own_cgroup2_dir();
  if (own.empty()) return skip_case("cgroup move: no cgroup v2 mount to make a child cgroup in");
  const Bytes ctx(sizeof(CgroupArgs), 0xee);
  Vm vm;
  auto object = vm.open_elf_file(kObject);
  REQUIRE(object.has_value());
  std::vector<Program> programs;
  std::vector<Runner> runners;
  for (const Engine engine : kEngines) {
    auto program = object->load("cgroup_ids", ProgramOptions{.engine = engine});
    INFO((program ? std::string() : program.error().message()));
    REQUIRE(program.has_value());
    programs.push_back(std::move(*program));
    runners.push_back(programs.back().runner());
  }
  const auto run_all = [&] {
    std::vector<Bytes> answers;
    for (Runner& runner : runners) {
      auto ran = runner.run(RunInput{.ctx = ctx});
      INFO((ran ? std::string() : ran.error().message()));
      REQUIRE(ran.has_value());
      answers.push_back(runner.output().ctx_out);
    }
    return answers;
  };
  const Bytes before = kernel_run(*kernel->program("cgroup_ids"), ctx);
  CHECK(run_all() == std::vector<Bytes>(runners.size(), before));

  const std::string child = own + "/bpfvm_task_cgroup_" + std::to_string(::getpid());
  REQUIRE((::mkdir(child.c_str(), 0755) == 0 || errno == EEXIST));
  const bool moved = move_to_cgroup(child);
  std::this_thread::sleep_for(std::chrono::nanoseconds(2 * helpers::ProcessIdentity::kCgroupRereadNs));
  const Bytes after = moved ? kernel_run(*kernel->program("cgroup_ids"), ctx) : Bytes{};
  const std::vector<Bytes> ours = moved ? run_all() : std::vector<Bytes>{};
  // A Vm made after the move reads the same.
  Vm fresh;
  auto fresh_object = fresh.open_elf_file(kObject);
  REQUIRE(fresh_object.has_value());
  auto fresh_program = fresh_object->load("cgroup_ids");
  REQUIRE(fresh_program.has_value());
  const Bytes fresh_answer = bpfvm_run(*fresh_program, ctx);
  CHECK(move_to_cgroup(own));
  ::rmdir(child.c_str());
  REQUIRE(moved);
  const auto ids = from_bytes<CgroupArgs>(after);
  CHECK(ids.id != from_bytes<CgroupArgs>(before).id);
  CHECK(ours == std::vector<Bytes>(runners.size(), after));
  CHECK(fresh_answer == after);
}

struct SignalArgs {
  std::uint32_t sig, sig_thread;
  std::int64_t process_result, thread_result;
};

namespace {

// Which of SIGUSR1/SIGUSR2 are pending for the process and for this thread; collects them.
struct Pending {
  bool usr1_process = false, usr2_thread = false, other = false;
  bool operator==(const Pending&) const = default;
};

Pending collect() {
  Pending p;
  sigset_t wait;
  sigemptyset(&wait);
  sigaddset(&wait, SIGUSR1);
  sigaddset(&wait, SIGUSR2);
  const timespec zero{0, 0};
  for (int sig; (sig = sigtimedwait(&wait, nullptr, &zero)) > 0;) {
    if (sig == SIGUSR1) p.usr1_process = true;
    else if (sig == SIGUSR2) p.usr2_thread = true;
    else p.other = true;
  }
  return p;
}

}  // namespace

TEST_CASE("bpf_send_signal and bpf_send_signal_thread: the signal reaches this process or thread, errnos as the kernel") {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGUSR2);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &block, &old) == 0);
  collect();
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  struct Case {
    std::uint32_t sig, sig_thread;
  };
  constexpr Case kCases[] = {{0, 0}, {SIGUSR1, 0}, {0, SIGUSR2}, {SIGUSR1, SIGUSR2}, {65, 65},
                             {0xffffffffu, 0x80000000u}};
  Vm vm;
  auto object = vm.open_elf_file(kObject);
  REQUIRE(object.has_value());
  for (const Case& c : kCases) {
    INFO("signals " << c.sig << ", " << c.sig_thread);
    const SignalArgs in{c.sig, c.sig_thread, 7, 7};
    const Bytes want = kernel_run(*kernel->program("send_signals"), bytes_of(in));
    const Pending want_pending = collect();
    CHECK(want_pending.usr1_process == (c.sig == SIGUSR1));
    CHECK(want_pending.usr2_thread == (c.sig_thread == SIGUSR2));
    for (const Engine engine : kEngines) {
      INFO("engine " << static_cast<int>(engine));
      auto program = object->load("send_signals", ProgramOptions{.engine = engine});
      INFO((program ? std::string() : program.error().message()));
      REQUIRE(program.has_value());
      CHECK(bpfvm_run(*program, bytes_of(in)) == want);
      CHECK(collect() == want_pending);
    }
  }
  REQUIRE(pthread_sigmask(SIG_SETMASK, &old, nullptr) == 0);
}

namespace {

// Ethernet + a 20-byte IPv4 header (UDP, 127.0.0.1 -> 127.0.0.1) + zero payload.
Bytes ipv4_frame() {
  Bytes f(64, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  f[17] = 50;  // total length
  f[22] = 64;  // TTL
  f[23] = 17;  // UDP
  const std::uint8_t lo[4] = {127, 0, 0, 1};
  std::memcpy(&f[26], lo, 4);
  std::memcpy(&f[30], lo, 4);
  return f;
}

struct Cookies {
  std::uint64_t tc_ctx, tc_null, cg_ctx, cg_null;
  bool operator==(const Cookies&) const = default;
};

std::uint64_t own_netns_cookie() {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  CHECK(::getsockopt(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &len) == 0);
  ::close(fd);
  return cookie;
}

}  // namespace

TEST_CASE("bpf_get_netns_cookie: this process's namespace for an skb, init_net's for NULL, as the kernel") {
  const std::string object_path = runtime_object_path("netns_cookie");
  std::string log;
  auto kernel = KernelObject::load_file(object_path, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  std::string bss;
  for (const auto& spec : kernel->map_specs())
    if (spec.name.ends_with(".bss")) bss = spec.name;
  REQUIRE(!bss.empty());
  for (const char* prog : {"tc_netns_cookie", "cgroup_skb_netns_cookie"}) {
    auto ran = test_run(*kernel->program(prog), ipv4_frame());
    INFO(prog << (ran ? std::string() : ran.error().message()));
    REQUIRE(ran.has_value());
  }
  const std::uint32_t zero = 0;
  Cookies want{};
  REQUIRE(map_lookup(*kernel->map(bss), {reinterpret_cast<const std::uint8_t*>(&zero), 4},
                     {reinterpret_cast<std::uint8_t*>(&want), sizeof want}) == 0);
  CHECK(want.tc_ctx == own_netns_cookie());
  CHECK(want.cg_ctx == want.tc_ctx);
  CHECK(want.cg_null == want.tc_null);
  for (const Engine engine : kEngines) {
    INFO("engine " << static_cast<int>(engine));
    Vm vm;
    auto object = vm.open_elf_file(object_path);
    REQUIRE(object.has_value());
    for (const char* name : {"tc_netns_cookie", "cgroup_skb_netns_cookie"}) {
      auto program = object->load(name, ProgramOptions{.engine = engine});
      INFO(name << (program ? std::string() : program.error().message()));
      REQUIRE(program.has_value());
      auto out = program->run(RunInput{.data = ipv4_frame()});
      INFO((out ? std::string() : out.error().message()));
      REQUIRE(out.has_value());
    }
    auto globals = object->map(bss);
    REQUIRE(globals.has_value());
    Cookies got{};
    REQUIRE(globals->lookup(0u, got).has_value());
    CHECK(got == want);
  }
}

}  // namespace bpfvm::testing
