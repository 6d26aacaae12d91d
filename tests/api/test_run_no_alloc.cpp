// A host that runs a program once per event allocates nothing per call: this executable replaces the
// global operator new (and, without sanitizers, malloc) with counting versions and runs programs
// through the public C++ and C APIs in a loop (issue #19). The count must be exactly zero.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <vector>

#include "bpfvm/bpfvm.h"
#include "bpfvm/bpfvm.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// These replacements pair malloc with free by definition; GCC's -Wmismatched-new-delete (seen in the
// ASan build) cannot tell a replaced global operator delete from a stray free().
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define BPFVM_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BPFVM_TEST_SANITIZED 1
#endif

#ifndef BPFVM_TEST_SANITIZED
// C allocations too (the C API's and libc's), through glibc's own entry points. Sanitizers replace
// malloc themselves, so there only operator new is counted.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t m) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, m);
}
extern "C" void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
#endif

using namespace bpfvm;

namespace {
constexpr int kCalls = 1000;
std::uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace

TEST_CASE("the counting allocator sees allocations", "[api][alloc]") {
  const auto before = allocations();
  auto* v = new std::vector<int>(100);
  delete v;
  void* p = std::malloc(16);
  std::free(p);
  CHECK(allocations() >= before + 2);
}

TEST_CASE("Program::run(input, out) allocates nothing per call", "[api][alloc]") {
  Vm vm;
  const std::vector<std::uint8_t> input(64, 3);
  for (auto engine : {Engine::Jit, Engine::Interpreter}) {
    for (bool checked : {false, true}) {
      auto obj = vm.open_assembly("mov %r0, 0\nldxb %r0, [%r1+0]\nexit\n", ProgramType::plain(64), "p");
      REQUIRE(obj.has_value());
      auto prog = obj->load("p", ProgramOptions{.engine = engine, .checked = checked});
      REQUIRE(prog.has_value());
      RunOutput out;
      const RunInput in{input, {}, 1, nullptr};
      REQUIRE(prog->run(in, out).has_value());  // warms the output buffer and this thread's context
      const auto before = allocations();
      std::uint64_t sum = 0;
      for (int i = 0; i < kCalls; ++i) {
        auto r = prog->run(in, out);
        if (r) sum += out.r0;
      }
      CHECK(allocations() - before == 0);
      CHECK(sum == 3u * kCalls);
    }
  }
}

TEST_CASE("packet programs (XDP, socket filter) allocate nothing per call either", "[api][alloc]") {
  Vm vm;
  std::vector<std::uint8_t> packet(60, 0);
  packet[12] = 0x08;
  for (std::uint32_t type : {6u /* XDP */, 1u /* SOCKET_FILTER */}) {
    for (auto engine : {Engine::Jit, Engine::Interpreter}) {
      // r0 = the packet length the context reports (xdp: data_end - data; skb: len), read through ctx.
      const char* text = type == 6 ? "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit\n"
                                   : "ldxw %r0, [%r1+0]\nexit\n";
      auto obj = vm.open_assembly(text, ProgramType::kernel(type).value(), "p");
      REQUIRE(obj.has_value());
      auto prog = obj->load("p", ProgramOptions{.engine = engine});
      REQUIRE(prog.has_value());
      RunOutput out;
      const RunInput in{packet, {}, 1, nullptr};
      REQUIRE(prog->run(in, out).has_value());
      const auto before = allocations();
      std::uint64_t sum = 0;
      for (int i = 0; i < kCalls; ++i)
        if (prog->run(in, out)) sum += out.r0;
      CHECK(allocations() - before == 0);
      CHECK(sum == std::uint64_t{type == 6 ? 60u : 46u} * kCalls);  // a socket filter starts at L3
      CHECK(out.data_out.size() == 60);
    }
  }
}

TEST_CASE("the C API's runs allocate nothing per call", "[api][alloc]") {
  bpfvm_error err;
  bpfvm_vm* vm = nullptr;
  REQUIRE(bpfvm_vm_create(0, &vm, &err) == BPFVM_OK);
  bpfvm_object* obj = nullptr;
  REQUIRE(bpfvm_vm_open_assembly(vm, "ldxb %r0, [%r1+0]\nexit\n", BPFVM_PROG_TYPE_PLAIN, 64, "p", &obj, &err) == BPFVM_OK);
  for (int engine : {BPFVM_ENGINE_JIT, BPFVM_ENGINE_INTERPRETER}) {
    bpfvm_program_options o = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    o.engine = engine;
    bpfvm_program* prog = nullptr;
    REQUIRE(bpfvm_object_load(obj, "p", &o, &prog, &err) == BPFVM_OK);
    std::uint8_t data[64] = {5};
    std::uint8_t data_out[64];
    std::uint64_t r0 = 0;
    REQUIRE(bpfvm_program_run(prog, data, sizeof data, &r0, &err) == BPFVM_OK);
    bpfvm_test_run run{};
    run.data_in = data;
    run.data_size_in = sizeof data;
    REQUIRE(bpfvm_program_test_run(prog, &run, &err) == BPFVM_OK);
    const auto before = allocations();
    std::uint64_t sum = 0;
    for (int i = 0; i < kCalls; ++i) {
      if (bpfvm_program_run(prog, data, sizeof data, &r0, &err) == BPFVM_OK) sum += r0;
      run.data_out = data_out;
      run.data_size_out = sizeof data_out;
      if (bpfvm_program_test_run(prog, &run, &err) == BPFVM_OK) sum += run.r0;
    }
    CHECK(allocations() - before == 0);
    CHECK(sum == 2u * 5u * kCalls);
    bpfvm_program_destroy(prog);
  }
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

TEST_CASE("the C API's XDP test runs with caller buffers allocate nothing per call", "[api][alloc]") {
  bpfvm_error err;
  bpfvm_vm* vm = nullptr;
  REQUIRE(bpfvm_vm_create(0, &vm, &err) == BPFVM_OK);
  bpfvm_object* obj = nullptr;
  // r0 = data_end - data: the packet length, read through the rewritten xdp_md.
  REQUIRE(bpfvm_vm_open_assembly(vm, "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit\n",
                                 6 /* BPF_PROG_TYPE_XDP */, 0, "p", &obj, &err) == BPFVM_OK);
  for (int engine : {BPFVM_ENGINE_JIT, BPFVM_ENGINE_INTERPRETER}) {
    bpfvm_program_options o = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    o.engine = engine;
    bpfvm_program* prog = nullptr;
    REQUIRE(bpfvm_object_load(obj, "p", &o, &prog, &err) == BPFVM_OK);
    std::uint8_t packet[60] = {};
    packet[12] = 0x08;
    std::uint8_t data_out[128], ctx_out[64];
    bpfvm_test_run run{};
    run.data_in = packet;
    run.data_size_in = sizeof packet;
    auto call = [&] {
      run.data_out = data_out;
      run.data_size_out = sizeof data_out;
      run.ctx_out = ctx_out;
      run.ctx_size_out = sizeof ctx_out;
      return bpfvm_program_test_run(prog, &run, &err) == BPFVM_OK;
    };
    REQUIRE(call());
    const auto before = allocations();
    std::uint64_t sum = 0;
    for (int i = 0; i < kCalls; ++i)
      if (call()) sum += run.r0;
    CHECK(allocations() - before == 0);
    CHECK(sum == 60u * kCalls);
    CHECK(run.data_size_out == sizeof packet);
    bpfvm_program_destroy(prog);
  }
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(vm);
}

TEST_CASE("a Runner allocates nothing per call: plain, context and packet programs, C++ and C", "[api][alloc]") {
  Vm vm;
  const std::vector<std::uint8_t> input(64, 3);
  std::vector<std::uint8_t> packet(60, 0);
  packet[12] = 0x08;
  struct Case {
    const char* text;
    ProgramType type;
    const std::vector<std::uint8_t>* input;
    std::uint64_t r0;
  };
  const Case cases[] = {
      {"ldxb %r0, [%r1+0]\nexit\n", ProgramType::plain(64), &input, 3},
      {"ldxb %r0, [%r1+0]\nexit\n", ProgramType::kernel(2).value() /* kprobe: pt_regs */, &input, 3},
      {"ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit\n", ProgramType::kernel(6).value(),
       &packet, 60},
  };
  for (const auto& c : cases)
    for (auto engine : {Engine::Jit, Engine::Interpreter})
      for (bool checked : {false, true}) {
        auto obj = vm.open_assembly(c.text, c.type, "p");
        REQUIRE(obj.has_value());
        auto prog = obj->load("p", ProgramOptions{.engine = engine, .checked = checked});
        REQUIRE(prog.has_value());
        Runner runner = prog->runner();
        REQUIRE(runner.run(*c.input).has_value());  // warms the runner's buffers
        auto before = allocations();
        std::uint64_t sum = 0;
        for (int i = 0; i < kCalls; ++i)
          if (auto r = runner.run(*c.input)) sum += *r;
        CHECK(allocations() - before == 0);
        CHECK(sum == c.r0 * kCalls);
      }

  bpfvm_error err;
  bpfvm_vm* cvm = nullptr;
  REQUIRE(bpfvm_vm_create(0, &cvm, &err) == BPFVM_OK);
  bpfvm_object* obj = nullptr;
  REQUIRE(bpfvm_vm_open_assembly(cvm, "ldxb %r0, [%r1+0]\nexit\n", BPFVM_PROG_TYPE_PLAIN, 64, "p", &obj, &err) == BPFVM_OK);
  for (int engine : {BPFVM_ENGINE_JIT, BPFVM_ENGINE_INTERPRETER}) {
    bpfvm_program_options o = BPFVM_PROGRAM_OPTIONS_DEFAULT;
    o.engine = engine;
    bpfvm_program* prog = nullptr;
    REQUIRE(bpfvm_object_load(obj, "p", &o, &prog, &err) == BPFVM_OK);
    bpfvm_runner* runner = nullptr;
    REQUIRE(bpfvm_runner_new(prog, &runner, &err) == BPFVM_OK);
    std::uint64_t r0 = 0;
    REQUIRE(bpfvm_runner_run(runner, input.data(), input.size(), &r0, &err) == BPFVM_OK);
    const auto before = allocations();
    std::uint64_t sum = 0;
    for (int i = 0; i < kCalls; ++i)
      if (bpfvm_runner_run(runner, input.data(), input.size(), &r0, &err) == BPFVM_OK) sum += r0;
    CHECK(allocations() - before == 0);
    CHECK(sum == 3u * kCalls);
    bpfvm_runner_destroy(runner);
    bpfvm_program_destroy(prog);
  }
  bpfvm_object_destroy(obj);
  bpfvm_vm_destroy(cvm);
}
