// Ring buffer dynptrs (bpf_ringbuf_reserve_dynptr / submit_dynptr / discard_dynptr) against the kernel:
// ringbuf_dynptr.bpf.c test-run on the same random packets in the kernel and in bpfvm (every engine,
// checked and not); the records are read back on both sides as a consumer sees them (libbpf's
// ring_buffer__consume on the kernel's map, Map::ringbuf_consume in bpfvm) at the same points, and the
// program's retvals and globals (every helper's answer, producer position) must be the kernel's.
#include <catch2/catch.hpp>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bpfvm/bpfvm.h"
#include "bpfvm/bpfvm.hpp"
#include "loader/object.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "tests/runtime/kernel_object.hpp"
#include "tests/runtime/packet_gen.hpp"

namespace bpfvm::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kObject = runtime_object_path("ringbuf_dynptr");
constexpr std::uint64_t kSeed = 0x72646e70;
constexpr std::uint64_t kPackets = 600;
constexpr std::uint64_t kConsumeEvery = 150;  // the 4 KiB ring fills in between: reservations fail

/// One side: run the program on a packet (its retval), consume the ring, read the globals.
struct Side {
  std::function<std::uint32_t(const Bytes& packet)> run;
  std::function<void(std::vector<Bytes>& records)> consume;
  std::function<Bytes()> globals;
};

struct Trace {
  std::vector<std::uint32_t> retvals;
  std::vector<Bytes> records;  // in consumption order
  std::vector<Bytes> globals;  // after each consumption
  std::vector<std::size_t> consumed;  // records handed over by each consumption
};

Trace play(const Side& side) {
  Trace t;
  auto consume = [&] {
    const std::size_t before = t.records.size();
    side.consume(t.records);
    t.consumed.push_back(t.records.size() - before);
    t.globals.push_back(side.globals());
  };
  for (std::uint64_t i = 0; i < kPackets; ++i) {
    t.retvals.push_back(side.run(random_packet(kSeed, i).bytes));
    if ((i + 1) % kConsumeEvery == 0) consume();
  }
  consume();
  return t;
}


/// The object's .bss map (the program's globals).
const loader::MapSpec* bss_spec(const KernelObject& k) {
  for (const auto& spec : k.map_specs())
    if (spec.name.ends_with(".bss")) return &spec;
  return nullptr;
}

int collect(void* ctx, void* data, size_t size) {
  auto* out = static_cast<std::vector<Bytes>*>(ctx);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->emplace_back(p, p + size);
  return 0;
}

Trace kernel_trace() {
  std::string log;
  auto kernel = KernelObject::load_file(kObject, &log);
  INFO(log << (kernel ? std::string() : kernel.error().message()));
  REQUIRE(kernel.has_value());
  const loader::MapSpec* bss = bss_spec(*kernel);
  REQUIRE(bss != nullptr);
  std::vector<Bytes>* sink = nullptr;
  ring_buffer* rb = ring_buffer__new(kernel->map("records")->get(),
                                     [](void* ctx, void* data, size_t size) {
                                       return collect(*static_cast<std::vector<Bytes>**>(ctx), data, size);
                                     },
                                     &sink, nullptr);
  REQUIRE(rb != nullptr);
  Side side;
  side.run = [&](const Bytes& p) {
    auto ran = test_run(*kernel->program("ringbuf_dynptr"), p);
    INFO((ran ? std::string() : ran.error().message()));
    REQUIRE(ran.has_value());
    return ran->retval;
  };
  side.consume = [&](std::vector<Bytes>& records) {
    sink = &records;
    REQUIRE(ring_buffer__consume(rb) >= 0);
  };
  side.globals = [&] {
    Bytes v(bss->value_size);
    const std::uint32_t key = 0;
    REQUIRE(map_lookup(*kernel->map(bss->name), {reinterpret_cast<const std::uint8_t*>(&key), 4}, v) == 0);
    return v;
  };
  Trace t = play(side);
  ring_buffer__free(rb);
  return t;
}

Trace bpfvm_trace(Engine engine, bool checked, const std::string& bss_name) {
  Vm vm;
  auto object = vm.open_elf(read_file_bytes(kObject), {}, "ringbuf_dynptr");
  INFO((object ? std::string() : object.error().message()));
  REQUIRE(object.has_value());
  auto program = object->load("ringbuf_dynptr", ProgramOptions{.engine = engine, .checked = checked});
  INFO((program ? std::string() : program.error().message()));
  REQUIRE(program.has_value());
  auto records = object->map("records");
  auto bss = object->map(bss_name);
  REQUIRE(records.has_value());
  REQUIRE(bss.has_value());
  Side side;
  side.run = [&](const Bytes& p) {
    auto run = program->run(RunInput{.data = p});
    INFO((run ? std::string() : run.error().message()));
    REQUIRE(run.has_value());
    return static_cast<std::uint32_t>(run->retval);
  };
  side.consume = [&](std::vector<Bytes>& out) {
    REQUIRE(records->ringbuf_consume([&out](std::span<const std::uint8_t> r) {
      out.emplace_back(r.begin(), r.end());
      return 0;
    }) >= 0);
  };
  side.globals = [&] {
    Bytes v(bss->host_value_size());
    const std::uint32_t key = 0;
    REQUIRE(bss->lookup({reinterpret_cast<const std::uint8_t*>(&key), 4}, v) == 0);
    return v;
  };
  return play(side);
}

}  // namespace

TEST_CASE("ring buffer dynptrs: records, retvals and helper answers are the kernel's on every engine",
          "[runtime][ringbuf][dynptr]") {
  std::string bss_name;
  {
    auto object = loader::load_object(read_file_bytes(kObject), {});
    REQUIRE(object.has_value());
    for (const auto& spec : object->maps)
      if (spec.name.ends_with(".bss")) bss_name = spec.name;
  }
  const Trace want = kernel_trace();
  // The run must reach every path: records consumed, reservations that failed (a full ring) and
  // ones discarded, so both releases and the null dynptr are compared.
  std::uint32_t dropped = 0;
  for (auto r : want.retvals) dropped += r == XDP_DROP;
  std::printf("ringbuf_dynptr: %zu packets, %zu records consumed, %u failed reservations (seed 0x%llx)\n",
              want.retvals.size(), want.records.size(), dropped, static_cast<unsigned long long>(kSeed));
  CHECK(want.records.size() > 100);
  CHECK(dropped > 20);
  for (const Engine engine : {Engine::Interpreter, Engine::Jit, Engine::JitOptimized})
    for (const bool checked : {false, true}) {
      INFO("engine " << static_cast<int>(engine) << (checked ? " checked" : ""));
      const Trace got = bpfvm_trace(engine, checked, bss_name);
      CHECK(got.retvals == want.retvals);
      CHECK(got.consumed == want.consumed);
      REQUIRE(got.records.size() == want.records.size());
      for (std::size_t i = 0; i < want.records.size(); ++i) {
        INFO("record " << i);
        CHECK(hex_window(got.records[i], 0, 40) == hex_window(want.records[i], 0, 40));
      }
      REQUIRE(got.globals.size() == want.globals.size());
      for (std::size_t i = 0; i < want.globals.size(); ++i) {
        INFO("globals after consumption " << i);
        CHECK(hex_window(got.globals[i], 0, 96) == hex_window(want.globals[i], 0, 96));
      }
    }
}

}  // namespace bpfvm::testing

namespace bpfvm::testing {

TEST_CASE("ring buffer dynptrs: the C API's consumer sees what the C++ one does") {
  // Two VMs run the same packets; one consumes through bpfvm_map_ringbuf_consume, the other through
  // Map::ringbuf_consume. Records and counts must agree; a negative return stops after its record.
  auto records_of = [](bool c_api, int stop_after) {
    std::vector<Bytes> out;
    Vm vm;
    bpfvm_vm* cvm = nullptr;
    REQUIRE(bpfvm_vm_create(0, &cvm, nullptr) == BPFVM_OK);
    bpfvm_object* cobj = nullptr;
    REQUIRE(bpfvm_vm_open_elf_file(cvm, kObject.c_str(), nullptr, &cobj, nullptr) == BPFVM_OK);
    bpfvm_program* cprog = nullptr;
    REQUIRE(bpfvm_object_load(cobj, "ringbuf_dynptr", nullptr, &cprog, nullptr) == BPFVM_OK);
    bpfvm_map* cmap = nullptr;
    REQUIRE(bpfvm_object_map(cobj, "records", &cmap, nullptr) == BPFVM_OK);
    auto object = vm.open_elf_file(kObject);
    REQUIRE(object.has_value());
    auto program = object->load("ringbuf_dynptr");
    REQUIRE(program.has_value());
    auto map = object->map("records");
    REQUIRE(map.has_value());
    for (std::uint64_t i = 0; i < 40; ++i) {
      const Bytes p = random_packet(kSeed, i).bytes;
      if (c_api) {
        bpfvm_test_run run{};
        run.data_in = p.data();
        run.data_size_in = p.size();
        REQUIRE(bpfvm_program_test_run(cprog, &run, nullptr) == BPFVM_OK);
      } else {
        REQUIRE(program->run(RunInput{.data = p}).has_value());
      }
    }
    struct Sink {
      std::vector<Bytes>* out;
      int stop_after;
    } sink{&out, stop_after};
    int n = 0;
    if (c_api) {
      n = bpfvm_map_ringbuf_consume(
          cmap,
          [](void* ctx, const void* data, size_t size) {
            auto* s = static_cast<Sink*>(ctx);
            const auto* b = static_cast<const std::uint8_t*>(data);
            s->out->emplace_back(b, b + size);
            return static_cast<int>(s->out->size()) == s->stop_after ? -1 : 0;
          },
          &sink, nullptr);
      CHECK(bpfvm_map_ringbuf_consume(cmap, nullptr, nullptr, nullptr) == -EINVAL);
    } else {
      n = map->ringbuf_consume([&](std::span<const std::uint8_t> r) {
        out.emplace_back(r.begin(), r.end());
        return static_cast<int>(out.size()) == stop_after ? -1 : 0;
      });
    }
    CHECK(n == static_cast<int>(out.size()));
    bpfvm_program_destroy(cprog);
    bpfvm_object_destroy(cobj);
    bpfvm_vm_destroy(cvm);
    return out;
  };
  const auto all = records_of(false, -1);
  CHECK(all.size() > 10);
  CHECK(records_of(true, -1) == all);
  const auto first5 = records_of(true, 5);
  REQUIRE(first5.size() == 5);
  CHECK(std::equal(first5.begin(), first5.end(), all.begin()));
}

}  // namespace bpfvm::testing
