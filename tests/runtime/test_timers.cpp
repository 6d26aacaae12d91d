// bpf_timer: the helpers' errnos against the kernel's (timer_errnos in the kernel and in bpfvm), and the
// host-driven firing (Vm::run_due_timers on a clock the test advances): order, a callback's cancel of its
// own timer, a value's deletion or update cancelling its timer; on the interpreter and the JIT alike.
#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.h"
#include "bpfvm/bpfvm.hpp"
#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/runtime/kernel_object.hpp"

namespace bpfvm::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kObject = runtime_object_path("timer");
constexpr std::uint32_t kResults = 16;

struct Elem {
  std::uint64_t fired;
  std::uint64_t timer[2];
  std::uint64_t order;
};

Bytes packet() { return Bytes(64, 0xab); }

std::vector<std::int64_t> bpfvm_errnos(Engine engine) {
  Vm vm;
  auto object = vm.open_elf_file(kObject);
  REQUIRE(object.has_value());
  auto program = object->load("timer_errnos", ProgramOptions{.engine = engine});
  INFO((program ? std::string() : program.error().message()));
  REQUIRE(program.has_value());
  auto run = program->run(RunInput{.data = packet()});
  INFO((run ? std::string() : run.error().message()));
  REQUIRE(run.has_value());
  CHECK(run->retval == XDP_PASS);
  auto results = object->map("results");
  REQUIRE(results.has_value());
  std::vector<std::int64_t> out(kResults);
  for (std::uint32_t i = 0; i < kResults; ++i) REQUIRE(results->lookup(i, out[i]).has_value());
  return out;
}

// The .bss map's bytes: `sequence` at 0, `cancel_in_callback` at 8.
std::int64_t bss_word(const Object& object, std::size_t index) {
  for (const auto& m : object.maps()) {
    if (!m.name().ends_with(".bss")) continue;
    Bytes value(m.value_size());
    const std::uint32_t key = 0;
    REQUIRE(m.lookup({reinterpret_cast<const std::uint8_t*>(&key), 4}, value) == 0);
    std::int64_t w = 0;
    std::memcpy(&w, value.data() + index * 8, 8);
    return w;
  }
  FAIL("no .bss map");
  return 0;
}

}  // namespace

TEST_CASE("bpf_timer: the helpers' errnos in order are the kernel's, on the interpreter and the JIT") {
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  auto ran = test_run(*kernel->program("timer_errnos"), packet());
  REQUIRE(ran.has_value());
  CHECK(ran->retval == XDP_PASS);
  std::vector<std::int64_t> want(kResults);
  for (std::uint32_t i = 0; i < kResults; ++i)
    REQUIRE(map_lookup(*kernel->map("results"), {reinterpret_cast<const std::uint8_t*>(&i), 4},
                       {reinterpret_cast<std::uint8_t*>(&want[i]), 8}) == 0);
  // What 6.18 answers (kernel/bpf/helpers.c), written out so a change on either side is seen.
  const std::vector<std::int64_t> kernel_semantics = {-EINVAL, -EINVAL, -EINVAL, -EINVAL, 0, -EBUSY, -EINVAL, 0,
                                                      -EINVAL, 0, 1, 0, -EINVAL, 0, 0, 1};
  CHECK(want == kernel_semantics);
  CHECK(bpfvm_errnos(Engine::Interpreter) == want);
  CHECK(bpfvm_errnos(Engine::Jit) == want);
}

TEST_CASE("bpf_timer: callbacks fire when the host's clock passes their expiry, earliest first") {
  for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
    INFO("engine " << static_cast<int>(engine));
    std::uint64_t now = 1'000'000;
    Vm vm;
    vm.set_clock([&now] { return now; });
    auto object = vm.open_elf_file(kObject);
    REQUIRE(object.has_value());
    auto arm = object->load("timer_arm", ProgramOptions{.engine = engine});
    REQUIRE(arm.has_value());
    REQUIRE(arm->run(RunInput{.data = packet()}).has_value());
    CHECK(vm.next_timer_expiry() == now + 1000);
    auto none = vm.run_due_timers();
    REQUIRE(none.has_value());
    CHECK(*none == 0);  // nothing expired yet
    now += 1500;
    auto one = vm.run_due_timers();
    REQUIRE(one.has_value());
    CHECK(*one == 1);  // slot 3 (1000 ns)
    now += 10'000;
    auto two = vm.run_due_timers();
    REQUIRE(two.has_value());
    CHECK(*two == 2);  // slot 2, then slot 1
    CHECK(!vm.next_timer_expiry().has_value());
    auto timers = object->map("timers");
    REQUIRE(timers.has_value());
    for (std::uint32_t k = 1; k < 4; ++k) {
      Elem e{};
      REQUIRE(timers->lookup(k, e).has_value());
      CHECK(e.fired == 1);
      CHECK(e.order == 4 - k);  // slot 3 fired first
    }
    CHECK(bss_word(*object, 0) == 3);         // sequence
    CHECK(bss_word(*object, 1) == -EDEADLK);  // bpf_timer_cancel of its own timer from its callback
    // Nothing armed: a later call fires nothing; arming again fires again.
    auto again = vm.run_due_timers();
    REQUIRE(again.has_value());
    CHECK(*again == 0);
  }
}

TEST_CASE("bpf_timer: deleting a hash value or updating an array value cancels and frees its timer") {
  for (const Engine engine : {Engine::Interpreter, Engine::Jit}) {
    INFO("engine " << static_cast<int>(engine));
    std::uint64_t now = 5'000;
    Vm vm;
    vm.set_clock([&now] { return now; });
    auto object = vm.open_elf_file(kObject);
    REQUIRE(object.has_value());
    auto hash = object->load("timer_hash", ProgramOptions{.engine = engine});
    REQUIRE(hash.has_value());
    auto r = hash->run(RunInput{.data = packet()});
    REQUIRE(r.has_value());
    CHECK(r->retval == XDP_PASS);
    CHECK(vm.next_timer_expiry() == now + 500);
    auto hash_map = object->map("hash_timers");
    REQUIRE(hash_map.has_value());
    REQUIRE(hash_map->erase(std::uint32_t{7}).has_value());
    CHECK(!vm.next_timer_expiry().has_value());

    auto arm = object->load("timer_arm", ProgramOptions{.engine = engine});
    REQUIRE(arm.has_value());
    REQUIRE(arm->run(RunInput{.data = packet()}).has_value());
    auto timers = object->map("timers");
    REQUIRE(timers.has_value());
    REQUIRE(timers->update(std::uint32_t{3}, Elem{}).has_value());  // slot 3's timer is freed
    now += 1'000'000;
    auto fired = vm.run_due_timers();
    REQUIRE(fired.has_value());
    CHECK(*fired == 2);  // slots 1 and 2 only
    Elem e{};
    REQUIRE(timers->lookup(std::uint32_t{3}, e).has_value());
    CHECK(e.fired == 0);
    // The re-created hash element starts without a timer: init succeeds again.
    r = hash->run(RunInput{.data = packet()});
    REQUIRE(r.has_value());
    CHECK(r->retval == XDP_PASS);
  }
}

TEST_CASE("bpf_timer: the C API sets the clock, reports the next expiry and fires due timers") {
  bpfvm_vm* vm = nullptr;
  REQUIRE(bpfvm_vm_create(0, &vm, nullptr) == BPFVM_OK);
  std::uint64_t now = 100;
  REQUIRE(bpfvm_vm_set_clock(vm, [](void* user) { return *static_cast<std::uint64_t*>(user); }, &now, nullptr) == BPFVM_OK);
  bpfvm_object* obj = nullptr;
  REQUIRE(bpfvm_vm_open_elf_file(vm, kObject.c_str(), nullptr, &obj, nullptr) == BPFVM_OK);
  bpfvm_program* prog = nullptr;
  REQUIRE(bpfvm_object_load(obj, "timer_arm", nullptr, &prog, nullptr) == BPFVM_OK);
  const Bytes data = packet();
  bpfvm_error err{};
  REQUIRE(bpfvm_program_run(prog, data.data(), data.size(), nullptr, &err) == BPFVM_OK);
  int armed = 0;
  std::uint64_t expiry = 0;
  REQUIRE(bpfvm_vm_next_timer_expiry(vm, &armed, &expiry, nullptr) == BPFVM_OK);
  CHECK(armed == 1);
  CHECK(expiry == 1100);
  now = 2100;
  std::size_t fired = 0;
  REQUIRE(bpfvm_vm_run_due_timers(vm, &fired, nullptr) == BPFVM_OK);
  CHECK(fired == 2);  // slots 3 and 2; slot 1 expires at 3100
  REQUIRE(bpfvm_vm_next_timer_expiry(vm, &armed, &expiry, nullptr) == BPFVM_OK);
  CHECK(armed == 1);
  CHECK(expiry == 3100);
  bpfvm_program_destroy(prog);
  // The program that set the callback is gone: its timer is dropped when it expires, nothing runs.
  now = 5000;
  REQUIRE(bpfvm_vm_run_due_timers(vm, &fired, nullptr) == BPFVM_OK);
  CHECK(fired == 0);
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

}  // namespace bpfvm::testing
