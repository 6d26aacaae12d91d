// BPF_MAP_TYPE_USER_RINGBUF and bpf_user_ringbuf_drain against the kernel: one script of producer
// calls (libbpf's user_ring_buffer on the kernel's map, Map::user_ringbuf_* in bpfvm) and drains
// (user_ringbuf.bpf.c test-run in the kernel, run in bpfvm on every engine, checked and not) must give
// the same reserve errnos, drain results, callback counts and everything the callbacks recorded.
#include <catch2/catch.hpp>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
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

const std::string kObject = runtime_object_path("user_ringbuf");
constexpr std::uint32_t kSeenWords = 128, kResultWords = 2;

/// One side of the comparison: a producer on the map, a drain run, and the maps' words.
struct Side {
  std::function<int(std::uint32_t size, std::uint8_t** sample)> reserve;  // 0 or -errno
  std::function<int(std::uint8_t* sample, bool discard)> commit;
  std::function<void(std::uint32_t flags)> drain;
  std::function<std::vector<std::int64_t>()> words;  // seen then results
};

// A sample: byte 0 = what the callback does (bit 0 stop, bit 1 drain again), byte 1 = its slot, then
// a pattern.
void fill(std::uint8_t* sample, std::uint32_t size, std::uint8_t action, std::uint8_t slot) {
  for (std::uint32_t i = 0; i < size; ++i) sample[i] = static_cast<std::uint8_t>(0x30 + 7 * i + slot);
  if (size > 0) sample[0] = action;
  if (size > 1) sample[1] = slot;
}

struct Trace {
  std::vector<std::int64_t> words;   // every producer answer and, after every drain, every map word
  std::vector<std::int64_t> drains;  // per drain: its result and the callback count
  std::vector<std::int64_t> reserves;  // the last five reserves' answers (sizes and room)
};

/// The script, in order.
Trace play(const Side& side) {
  Trace out;
  auto& trace = out.words;
  auto produce = [&](std::uint32_t size, std::uint8_t action, std::uint8_t slot) -> std::uint8_t* {
    std::uint8_t* s = nullptr;
    const int rc = side.reserve(size, &s);
    trace.push_back(rc);
    if (rc == 0) fill(s, size, action, slot);
    return rc == 0 ? s : nullptr;
  };
  auto commit = [&](std::uint8_t* s, bool discard) {
    REQUIRE(s != nullptr);
    trace.push_back(side.commit(s, discard));
  };
  auto drain = [&](std::uint32_t flags) {
    side.drain(flags);
    const auto words = side.words();
    trace.insert(trace.end(), words.begin(), words.end());
    out.drains.insert(out.drains.end(), words.end() - kResultWords, words.end());
  };
  // Round 1: 16, 8 and 3 bytes, a discarded one, an empty one, then one that stops the callback.
  commit(produce(16, 0, 0), false);
  commit(produce(8, 0, 1), false);
  commit(produce(3, 0, 2), false);
  commit(produce(24, 0, 3), true);
  commit(produce(0, 0, 15), false);
  commit(produce(12, 1, 4), false);
  commit(produce(20, 0, 5), false);
  drain(0);
  // Round 2: a sample whose callback drains the busy map again, then one still reserved (busy) ahead
  // of a submitted one: the drain stops at the busy record.
  commit(produce(10, 2, 6), false);
  std::uint8_t* busy = produce(32, 0, 7);
  commit(produce(40, 0, 8), false);
  drain(BPF_RB_FORCE_WAKEUP);
  drain(4);  // an unknown flag: -EINVAL before anything is drained
  commit(busy, false);
  drain(BPF_RB_NO_WAKEUP);
  drain(0);  // empty
  // Sizes: the header's flag bits, a record larger than the ring, the whole ring, then no room.
  produce(1u << 31, 0, 9);
  produce(1u << 30, 0, 9);
  produce(4096 - 7, 0, 9);
  std::uint8_t* big = produce(4096 - 8 - 64, 0, 9);
  produce(100, 0, 10);
  out.reserves.assign(trace.end() - 5, trace.end());
  commit(produce(48, 0, 10), false);
  commit(big, true);
  drain(0);
  return out;
}

Bytes packet(std::uint32_t flags) {
  Bytes p(64, 0);
  std::memcpy(p.data(), &flags, 4);
  return p;
}

Trace kernel_trace() {
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  user_ring_buffer* rb = user_ring_buffer__new(kernel->map("samples")->get(), nullptr);
  REQUIRE(rb != nullptr);
  Side side;
  side.reserve = [&](std::uint32_t size, std::uint8_t** s) {
    *s = static_cast<std::uint8_t*>(user_ring_buffer__reserve(rb, size));
    return *s ? 0 : -errno;
  };
  side.commit = [&](std::uint8_t* s, bool discard) {
    if (discard) user_ring_buffer__discard(rb, s);
    else user_ring_buffer__submit(rb, s);
    return 0;
  };
  side.drain = [&](std::uint32_t flags) {
    auto ran = test_run(*kernel->program("drain"), packet(flags));
    INFO((ran ? std::string() : ran.error().message()));
    REQUIRE(ran.has_value());
    CHECK(ran->retval == XDP_PASS);
  };
  auto read = [&](const char* map, std::uint32_t n) {
    std::vector<std::int64_t> out(n);
    for (std::uint32_t i = 0; i < n; ++i)
      REQUIRE(map_lookup(*kernel->map(map), {reinterpret_cast<const std::uint8_t*>(&i), 4},
                         {reinterpret_cast<std::uint8_t*>(&out[i]), 8}) == 0);
    return out;
  };
  side.words = [&] {
    auto w = read("seen", kSeenWords);
    for (auto r : read("results", kResultWords)) w.push_back(r);
    return w;
  };
  auto trace = play(side);
  user_ring_buffer__free(rb);
  return trace;
}

Trace bpfvm_trace(Engine engine, bool checked) {
  Vm vm;
  auto object = vm.open_elf_file(kObject);
  INFO((object ? std::string() : object.error().message()));
  REQUIRE(object.has_value());
  auto program = object->load("drain", ProgramOptions{.engine = engine, .checked = checked});
  INFO((program ? std::string() : program.error().message()));
  REQUIRE(program.has_value());
  auto samples = object->map("samples");
  REQUIRE(samples.has_value());
  Side side;
  side.reserve = [&](std::uint32_t size, std::uint8_t** s) {
    std::span<std::uint8_t> out;
    const int rc = samples->user_ringbuf_reserve(size, out);
    *s = out.data();
    return rc;
  };
  side.commit = [&](std::uint8_t* s, bool discard) {
    return discard ? samples->user_ringbuf_discard({s, 0}) : samples->user_ringbuf_submit({s, 0});
  };
  side.drain = [&](std::uint32_t flags) {
    const Bytes p = packet(flags);
    auto run = program->run(RunInput{.data = p});
    INFO((run ? std::string() : run.error().message()));
    REQUIRE(run.has_value());
    CHECK(run->retval == XDP_PASS);
  };
  auto read = [&](const char* name, std::uint32_t n) {
    auto map = object->map(name);
    REQUIRE(map.has_value());
    std::vector<std::int64_t> out(n);
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(map->lookup(i, out[i]).has_value());
    return out;
  };
  side.words = [&] {
    auto w = read("seen", kSeenWords);
    for (auto r : read("results", kResultWords)) w.push_back(r);
    return w;
  };
  return play(side);
}

}  // namespace

TEST_CASE("user ring buffer: producer errnos, drain results and callback records are the kernel's") {
  const Trace want = kernel_trace();
  // What 6.18 answers (ringbuf.c, libbpf's user_ring_buffer), written out so a change on both sides is
  // seen: the first drain passes 5 samples (the discarded one skipped, the 6th callback stops it), the
  // second 2 before the busy record (the nested drain of the same map gets -EBUSY), an unknown flag is
  // -EINVAL with no callback, then 2, then nothing, then the one sample behind a discarded one.
  CHECK(want.drains == std::vector<std::int64_t>{5, 5, 2, 2, -EINVAL, 0, 2, 2, 0, 0, 1, 1});
  CHECK(want.reserves == std::vector<std::int64_t>{-E2BIG, -E2BIG, -E2BIG, 0, -ENOSPC});
  CHECK(std::find(want.words.begin(), want.words.end(), -EBUSY) != want.words.end());
  for (const Engine engine : {Engine::Interpreter, Engine::Jit, Engine::JitOptimized})
    for (const bool checked : {false, true}) {
      INFO("engine " << static_cast<int>(engine) << (checked ? " checked" : ""));
      const Trace got = bpfvm_trace(engine, checked);
      CHECK(got.drains == want.drains);
      CHECK(got.reserves == want.reserves);
      REQUIRE(got.words.size() == want.words.size());
      for (std::size_t i = 0; i < want.words.size(); ++i) {
        INFO("trace word " << i);
        CHECK(got.words[i] == want.words[i]);
      }
    }
}

}  // namespace bpfvm::testing

namespace bpfvm::testing {

TEST_CASE("user ring buffer: the C API's producer calls") {
  bpfvm_vm* vm = nullptr;
  REQUIRE(bpfvm_vm_create(0, &vm, nullptr) == BPFVM_OK);
  bpfvm_object* object = nullptr;
  REQUIRE(bpfvm_vm_open_elf_file(vm, kObject.c_str(), nullptr, &object, nullptr) == BPFVM_OK);
  bpfvm_map* samples = nullptr;
  bpfvm_map* results = nullptr;
  REQUIRE(bpfvm_object_map(object, "samples", &samples, nullptr) == BPFVM_OK);
  REQUIRE(bpfvm_object_map(object, "results", &results, nullptr) == BPFVM_OK);
  void* sample = nullptr;
  CHECK(bpfvm_map_user_ringbuf_reserve(samples, 1u << 31, &sample, nullptr) == -E2BIG);
  CHECK(sample == nullptr);
  CHECK(bpfvm_map_user_ringbuf_reserve(results, 8, &sample, nullptr) == -EINVAL);  // not a user ring buffer
  CHECK(bpfvm_map_user_ringbuf_reserve(samples, 8, nullptr, nullptr) == -EINVAL);
  // 4096 bytes hold 16 records of 240 + 8 bytes; the 17th does not fit until one is drained.
  std::vector<void*> reserved;
  for (int i = 0; i < 16; ++i) {
    REQUIRE(bpfvm_map_user_ringbuf_reserve(samples, 240, &sample, nullptr) == 0);
    REQUIRE(sample != nullptr);
    std::memset(sample, i, 240);
    reserved.push_back(sample);
  }
  CHECK(bpfvm_map_user_ringbuf_reserve(samples, 240, &sample, nullptr) == -ENOSPC);
  CHECK(bpfvm_map_user_ringbuf_submit(samples, nullptr, nullptr) == -EINVAL);
  for (std::size_t i = 0; i < reserved.size(); ++i)
    CHECK((i % 2 ? bpfvm_map_user_ringbuf_discard(samples, reserved[i], nullptr)
                 : bpfvm_map_user_ringbuf_submit(samples, reserved[i], nullptr)) == 0);
  CHECK(bpfvm_map_user_ringbuf_submit(samples, reserved[0], nullptr) == -EINVAL);  // committed already
  bpfvm_object_destroy(object);
  bpfvm_vm_destroy(vm);
}

}  // namespace bpfvm::testing
