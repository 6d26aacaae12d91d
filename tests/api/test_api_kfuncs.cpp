// Kfunc calls through the public API: a raw `call kfunc ID` named by the kernel's BTF, the one-line
// refusal of a kfunc bpfvm does not implement (verifier and engines), an id that names no function,
// and a host kfunc added by name (Vm::add_kfunc) that every engine calls like a helper.
#include <linux/bpf.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.hpp"
#include "loader/btf.hpp"

using namespace bpfvm;

namespace {

std::vector<std::uint8_t> kernel_btf() {
  std::ifstream in("/sys/kernel/btf/vmlinux", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t count_calls(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, HelperCall* call) {
  auto* calls = static_cast<int*>(helper_user_data(call));
  return static_cast<std::uint64_t>(++*calls + 41);
}

}  // namespace

TEST_CASE("kfuncs: raw call kfunc by BTF id, unimplemented ones refused in one line, host kfuncs by name") {
  const auto vmlinux = kernel_btf();
  if (vmlinux.empty()) {
    WARN("skipped: no /sys/kernel/btf/vmlinux");
    return;
  }
  auto btf = loader::Btf::parse(vmlinux);
  REQUIRE(btf.has_value());
  const auto id = btf->find(loader::BtfKind::Func, "bpf_rcu_read_lock");
  REQUIRE(id.has_value());
  const std::string text = "mov %r6, 0\ncall kfunc " + std::to_string(*id) + "\nexit\n";

  Vm vm;
  auto obj = vm.open_assembly(text, ProgramType::plain(0), "k");
  REQUIRE(obj.has_value());
  // The verifier names the insn and the kfunc (the API named the id from the kernel's BTF).
  auto refused = obj->load("k");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().pc == 1);
  CHECK(refused.error().reason.starts_with("not supported yet by the verifier: kfunc bpf_rcu_read_lock: bpfvm does not implement it"));
  // Unverified, every engine refuses to prepare the call, in the same words.
  for (auto engine : {Engine::Interpreter, Engine::Jit}) {
    auto unverified = obj->load("k", {.engine = engine, .verify = false});
    REQUIRE_FALSE(unverified.has_value());
    CHECK(unverified.error().pc == 1);
    CHECK(unverified.error().reason == "kfunc bpf_rcu_read_lock (BTF id " + std::to_string(*id) + ") is not supported yet");
  }

  // An id the kernel's BTF has, but not as a function (the kernel's add_kfunc_call refusal).
  std::uint32_t not_func = 1;
  while (btf->kind(not_func) == loader::BtfKind::Func) ++not_func;
  auto bad = vm.open_assembly("call kfunc " + std::to_string(not_func) + "\nexit\n", ProgramType::plain(0), "b");
  REQUIRE(bad.has_value());
  auto bad_load = bad->load("b");
  REQUIRE_FALSE(bad_load.has_value());
  CHECK(bad_load.error().pc == 0);
  CHECK(bad_load.error().reason == "kernel btf_id " + std::to_string(not_func) + " is not a function");

  // A host implementation by name: the verifier checks its signature, every engine calls it.
  int calls = 0;
  vm.add_kfunc(HostKfunc{"bpf_rcu_read_lock", &count_calls, &calls, KfuncSignature{}, {}});
  for (auto engine : {Engine::Interpreter, Engine::Jit, Engine::JitOptimized}) {
    auto prog = obj->load("k", {.engine = engine});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    const int before = calls;
    auto out = prog->run(std::span<const std::uint8_t>{});
    REQUIRE(out.has_value());
    CHECK(calls == before + 1);
    CHECK(out->r0 == static_cast<std::uint64_t>(calls + 41));
  }
  // Its types: a kfunc for xdp only is refused from a socket filter's type, as the kernel's sets are.
  vm.add_kfunc(HostKfunc{"bpf_rcu_read_lock", &count_calls, &calls, KfuncSignature{}, {"xdp"}});
  auto typed = vm.open_assembly(text, *ProgramType::kernel(BPF_PROG_TYPE_SOCKET_FILTER), "t");
  REQUIRE(typed.has_value());
  auto typed_load = typed->load("t");
  REQUIRE_FALSE(typed_load.has_value());
  CHECK(typed_load.error().reason.find("calling kernel function bpf_rcu_read_lock is not allowed") != std::string::npos);
}
