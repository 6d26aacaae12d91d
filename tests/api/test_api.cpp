// The public C++ API end to end: open, verify, run on both engines, maps, host helpers, threads.
#include <linux/bpf.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <time.h>
#include <vector>

#include "bpfvm/bpfvm.hpp"

using namespace bpfvm;

namespace {

std::vector<std::uint8_t> udp_packet(std::uint16_t dst_port) {
  std::vector<std::uint8_t> p(42, 0);
  p[12] = 0x08;  // ETH_P_IP
  const std::uint8_t ip[] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  std::memcpy(&p[14], ip, sizeof ip);
  p[36] = static_cast<std::uint8_t>(dst_port >> 8);
  p[37] = static_cast<std::uint8_t>(dst_port);
  return p;
}

std::uint64_t add_secret(std::uint64_t a, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, HelperCall* call) {
  return a + *static_cast<std::uint64_t*>(helper_user_data(call));
}

// Sleeps 2 ms: time the thread spends off the CPU, as a preempted run does.
std::uint64_t host_sleep(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, HelperCall*) {
  const timespec two_ms{0, 2'000'000};
  nanosleep(&two_ms, nullptr);
  return 0;
}

constexpr Engine kEngines[] = {Engine::Interpreter, Engine::Jit};

// xdp_parse's per-CPU rxcnt[IPPROTO_UDP], summed over every CPU slot.
std::uint64_t udp_count(const Map& rxcnt) {
  std::vector<std::uint8_t> values(rxcnt.host_value_size());
  const std::uint32_t udp = 17;
  REQUIRE(rxcnt.lookup(std::span(reinterpret_cast<const std::uint8_t*>(&udp), 4), values) == 0);
  std::uint64_t total = 0;
  for (std::size_t off = 0; off < values.size(); off += 8) {
    std::uint64_t v;
    std::memcpy(&v, &values[off], 8);
    total += v;
  }
  return total;
}

}  // namespace

TEST_CASE("plain assembly: verified by default, rejected with the reason, runs on both engines") {
  Vm vm;
  auto obj = vm.open_assembly("ldxw %r0, [%r1+0]\nadd %r0, %r2\nexit\n", ProgramType::plain(4), "sum");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("sum", {.engine = engine});
    REQUIRE(prog.has_value());
    CHECK(prog->verifier_report().verified);
    const std::uint8_t mem[] = {1, 0, 0, 0};
    auto out = prog->run(mem);
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1 + 4);
  }
  auto bad = vm.open_assembly("ldxw %r0, [%r1+4]\nexit\n", ProgramType::plain(4), "oob");
  REQUIRE(bad.has_value());
  auto rejected = bad->load("oob");
  REQUIRE_FALSE(rejected.has_value());
  CHECK(rejected.error().code == Errc::Rejected);
  CHECK(rejected.error().pc == 0);
  auto unverified = bad->load("oob", {.verify = false, .checked = true});
  REQUIRE(unverified.has_value());
  const std::uint8_t mem[] = {1, 2, 3, 4};
  auto fault = unverified->run(mem);
  REQUIRE_FALSE(fault.has_value());
  CHECK(fault.error().code == Errc::MemoryFault);
}

TEST_CASE("a program that reads unwritten stack starts every run on a zeroed stack, on both engines") {
  // The writer fills its whole frame with ones; the reader ORs every slot it never wrote. The verifier
  // accepts the reader (privileged, as the kernel's allow_uninit_stack) and marks it, so the engines
  // zero its stack: it must not see the writer's bytes from the run before (fast, unchecked runs).
  std::string writer, reader = "mov %r0, 0\n";
  for (int off = 8; off <= 512; off += 8) {
    writer += "stdw [%r10-" + std::to_string(off) + "], -1\n";
    reader += "ldxdw %r1, [%r10-" + std::to_string(off) + "]\nor %r0, %r1\n";
  }
  writer += "mov %r0, 0\nexit\n";
  reader += "exit\n";
  Vm vm;
  auto w = vm.open_assembly(writer, ProgramType::plain(0), "writer");
  auto r = vm.open_assembly(reader, ProgramType::plain(0), "reader");
  REQUIRE(w.has_value());
  REQUIRE(r.has_value());
  for (auto engine : kEngines) {
    auto write_prog = w->load("writer", {.engine = engine});
    auto read_prog = r->load("reader", {.engine = engine});
    REQUIRE(write_prog.has_value());
    REQUIRE(read_prog.has_value());
    for (int round = 0; round < 3; ++round) {
      REQUIRE(write_prog->run(std::span<const std::uint8_t>{}).has_value());
      auto out = read_prog->run(std::span<const std::uint8_t>{});
      REQUIRE(out.has_value());
      CHECK(out->r0 == 0);
    }
  }
}

TEST_CASE("an XDP object built by clang: verdicts, packet out, per-CPU map, both engines") {
  Vm vm;
  auto obj = vm.open_elf_file(BPFVM_EXAMPLES_DIR "/xdp_parse.bpf.o");
  REQUIRE(obj.has_value());
  REQUIRE(obj->programs().size() == 1);
  CHECK(obj->programs()[0].type == "xdp");
  for (auto engine : kEngines) {
    auto prog = obj->load("xdp_count", {.engine = engine});
    REQUIRE(prog.has_value());
    const auto drop = udp_packet(9), pass = udp_packet(53);
    auto d = prog->run(RunInput{drop, {}, 1, nullptr});
    REQUIRE(d.has_value());
    CHECK(d->retval == 1);  // XDP_DROP
    auto p = prog->run(RunInput{pass, {}, 3, nullptr});
    REQUIRE(p.has_value());
    CHECK(p->retval == 2);  // XDP_PASS
    CHECK(p->data_out == pass);
  }
  auto rxcnt = obj->map("rxcnt");
  REQUIRE(rxcnt.has_value());
  const std::uint64_t total = udp_count(*rxcnt);
  CHECK(total == 2 * 3);  // two engines x 3 passed runs (dropped packets return before counting)
  // The in-place view shows each index's per-CPU values exactly as lookup() copies them.
  const auto values = rxcnt->array_values();
  const std::size_t stride = rxcnt->array_stride_bytes();
  REQUIRE(stride == rxcnt->host_value_size());
  REQUIRE(values.size() == std::size_t{rxcnt->max_entries()} * stride);
  std::vector<std::uint8_t> copied(rxcnt->host_value_size());
  for (std::uint32_t k = 0; k < rxcnt->max_entries(); ++k) {
    REQUIRE(rxcnt->lookup(std::span(reinterpret_cast<const std::uint8_t*>(&k), 4), copied) == 0);
    CHECK(std::equal(copied.begin(), copied.end(), values.begin() + std::size_t{k} * stride));
  }
}

TEST_CASE("one program runs on many threads at once against shared maps") {
  Vm vm;
  auto obj = vm.open_elf_file(BPFVM_EXAMPLES_DIR "/xdp_parse.bpf.o");
  REQUIRE(obj.has_value());
  auto prog = obj->load("xdp_count");
  REQUIRE(prog.has_value());
  const auto pass = udp_packet(53);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int k = 0; k < 250; ++k) (void)prog->run(RunInput{pass, {}, 1, nullptr});
    });
  for (auto& t : threads) t.join();
  auto rxcnt = obj->map("rxcnt");
  const std::uint64_t total = udp_count(*rxcnt);
  CHECK(total == 1000);  // per-CPU slots: no lost updates
}

TEST_CASE("global data maps hold the section contents, read through typed map access") {
  Vm vm;
  auto obj = vm.open_elf_file(BPFVM_EXAMPLES_DIR "/globals_subprog.bpf.o");
  REQUIRE(obj.has_value());
  auto tuning = obj->map(".data.tuning");
  REQUIRE(tuning.has_value());
  std::uint32_t key = 0, value = 0;
  REQUIRE(tuning->lookup(key, value).has_value());
  CHECK(value == 42);
  value = 7;
  CHECK(tuning->update(key, value).has_value());
  CHECK(tuning->get<std::uint32_t>(key).value() == 7);
  auto rodata = obj->map(".rodata");
  REQUIRE(rodata.has_value());
  std::vector<std::uint8_t> bytes(rodata->value_size());
  const auto frozen = rodata->update(std::span(reinterpret_cast<const std::uint8_t*>(&key), 4), bytes);
  CHECK(frozen == -EPERM);  // frozen, as libbpf leaves .rodata
}

namespace {
struct FlowKey {  // examples/maps.bpf.c's struct flow_key
  std::uint32_t saddr, daddr;
  std::uint16_t sport, dport;
};
bool operator==(const FlowKey& a, const FlowKey& b) { return std::memcmp(&a, &b, sizeof a) == 0; }
FlowKey flow(std::uint32_t n) { return FlowKey{n, n + 1, 80, 443}; }
}  // namespace

TEST_CASE("typed map API: Result with the kernel errno, iteration, lookup-and-delete, batches") {
  Vm vm;
  auto obj = vm.open_elf_file(BPFVM_EXAMPLES_DIR "/maps.bpf.o");
  REQUIRE(obj.has_value());
  auto flows = obj->map("flows");
  REQUIRE(flows.has_value());
  REQUIRE(flows->key_size() == sizeof(FlowKey));

  // Errnos travel inside the error.
  auto missing = flows->get<std::uint64_t>(flow(1));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == Errc::Errno);
  CHECK(missing.error().sys_errno == ENOENT);
  CHECK(missing.error().reason == "ENOENT");
  CHECK(flows->update(flow(1), std::uint64_t{10}, 2 /* BPF_EXIST */).error().sys_errno == ENOENT);
  REQUIRE(flows->update(flow(1), std::uint64_t{10}, 1 /* BPF_NOEXIST */).has_value());
  CHECK(flows->update(flow(1), std::uint64_t{11}, 1 /* BPF_NOEXIST */).error().sys_errno == EEXIST);
  CHECK(flows->update(flow(1), std::uint32_t{11}).error().sys_errno == EINVAL);  // wrong value size
  CHECK(flows->get<std::uint64_t>(flow(1)).value() == 10);

  // Batch update, then a walk with for_each sees exactly those keys.
  std::vector<FlowKey> keys;
  std::vector<std::uint64_t> values;
  for (std::uint32_t n = 2; n < 102; ++n) keys.push_back(flow(n)), values.push_back(n * 100);
  auto applied = flows->update_batch(std::span<const FlowKey>(keys), std::span<const std::uint64_t>(values));
  REQUIRE(applied.has_value());
  CHECK(*applied == 100);
  std::uint64_t seen = 0, sum = 0;
  REQUIRE(flows->for_each<FlowKey, std::uint64_t>([&](const FlowKey& k, const std::uint64_t& v) {
    ++seen;
    sum += v;
    CHECK((k.saddr == 1 ? v == 10 : v == k.saddr * 100));
  }).has_value());
  CHECK(seen == 101);
  CHECK(sum == 10 + 100 * (2 + 101) * 100 / 2);
  std::uint64_t stopped = 0;
  REQUIRE(flows->for_each<FlowKey, std::uint64_t>([&](const FlowKey&, const std::uint64_t&) { return ++stopped < 5; })
              .has_value());
  CHECK(stopped == 5);
  auto first = flows->first_key<FlowKey>();
  REQUIRE(first.has_value());
  auto second = flows->next_key(*first);
  REQUIRE(second.has_value());
  CHECK_FALSE(*second == *first);

  // Lookup-and-delete takes the element out.
  std::uint64_t taken = 0;
  REQUIRE(flows->lookup_and_delete(flow(1), taken).has_value());
  CHECK(taken == 10);
  CHECK(flows->lookup_and_delete(flow(1), taken).error().sys_errno == ENOENT);
  CHECK(flows->erase(flow(1)).error().sys_errno == ENOENT);
  REQUIRE(flows->erase(flow(2)).has_value());

  // Batch lookup walks every remaining element exactly once; batch delete removes them.
  MapBatchCursor cursor;
  std::vector<FlowKey> got_keys(16);
  std::vector<std::uint64_t> got_values(16);
  std::vector<FlowKey> all;
  for (int calls = 0; !cursor.done() && calls < 1000; ++calls) {
    auto n = flows->lookup_batch(cursor, std::span(got_keys), std::span(got_values));
    REQUIRE(n.has_value());
    for (std::size_t i = 0; i < *n; ++i) {
      CHECK(got_values[i] == got_keys[i].saddr * 100);
      all.push_back(got_keys[i]);
    }
  }
  CHECK(cursor.done());
  CHECK(all.size() == 99);
  auto deleted = flows->delete_batch(std::span<const FlowKey>(all));
  REQUIRE(deleted.has_value());
  CHECK(*deleted == 99);
  CHECK(flows->first_key<FlowKey>().error().sys_errno == ENOENT);
  auto again = flows->delete_batch(std::span<const FlowKey>(all).first(1));
  CHECK(again.error().sys_errno == ENOENT);
}

TEST_CASE("host helpers: any id, user data, verifier-checked signature") {
  Vm vm;
  std::uint64_t secret = 1000;
  HelperSignature sig;
  sig.known = true;
  sig.args = {ArgType::Anything, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare};
  vm.add_helper(HostHelper{0x10000, "host_add_secret", &add_secret, &secret, sig});
  auto obj = vm.open_assembly("mov %r1, 5\ncall 65536\nexit\n", ProgramType::plain(0), "h");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("h", {.engine = engine});
    REQUIRE(prog.has_value());
    auto out = prog->run(std::span<const std::uint8_t>{});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1005);
  }
  auto missing = vm.open_assembly("call 65537\nexit\n", ProgramType::plain(0), "m");
  REQUIRE(missing.has_value());
  CHECK_FALSE(missing->load("m").has_value());
}

namespace {
// A host's bpf_sysctl_get_name: the sysctl it runs the program for.
std::uint64_t host_sysctl_name(std::uint64_t, std::uint64_t buf, std::uint64_t size, std::uint64_t, std::uint64_t,
                               HelperCall* call) {
  constexpr char kName[] = "kernel/ostype";
  void* out = reinterpret_cast<void*>(static_cast<std::uintptr_t>(buf));
  if (size < sizeof kName || !helper_memory_ok(call, out, sizeof kName, true)) return static_cast<std::uint64_t>(-E2BIG);
  std::memcpy(out, kName, sizeof kName);
  return sizeof kName - 1;
}
}  // namespace

TEST_CASE("host helpers replace a kernel helper bpfvm cannot answer (bpf_sysctl_get_name) under its id") {
  const char* text =
      "mov %r6, %r1\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 16\nmov %r4, 0\ncall 101\n"
      "ldxb %r1, [%r10-16]\nlsh %r1, 8\nor %r0, %r1\nstxw [%r6+4], %r0\nmov %r0, 1\nexit\n";  // into file_pos
  auto type = ProgramType::kernel(BPF_PROG_TYPE_CGROUP_SYSCTL);
  REQUIRE(type.has_value());
  const std::vector<std::uint8_t> ctx(sizeof(bpf_sysctl), 0);
  for (auto engine : kEngines) {
    Vm vm;
    auto before = vm.open_assembly(text, *type, "s");
    REQUIRE(before.has_value());
    auto prog = before->load("s", {.engine = engine});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    auto stopped = prog->run(RunInput{.ctx = ctx});
    REQUIRE_FALSE(stopped.has_value());
    CHECK(stopped.error().message().find("bpf_sysctl_get_name is not supported yet") != std::string::npos);

    HelperSignature sig;
    sig.known = true;
    sig.args = {ArgType::PtrToCtx, ArgType::PtrToUninitMem, ArgType::ConstSize, ArgType::Anything, ArgType::DontCare};
    vm.add_helper(HostHelper{BPF_FUNC_sysctl_get_name, "bpf_sysctl_get_name", &host_sysctl_name, nullptr, sig});
    auto after = vm.open_assembly(text, *type, "s");
    REQUIRE(after.has_value());
    auto replaced = after->load("s", {.engine = engine});
    REQUIRE(replaced.has_value());
    auto out = replaced->run(RunInput{.ctx = ctx});
    INFO((out ? std::string() : out.error().message()));
    REQUIRE(out.has_value());
    std::uint32_t file_pos = 0;
    REQUIRE(out->ctx_out.size() >= 8);
    std::memcpy(&file_pos, out->ctx_out.data() + 4, 4);
    CHECK(file_pos == (std::uint32_t{'k'} << 8 | 13));
  }
}

TEST_CASE("repeated runs report thread CPU time beside wall time, and time off the CPU counts only in wall time") {
  Vm vm;
  HelperSignature sig;
  sig.known = true;
  sig.args = {ArgType::DontCare, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare};
  vm.add_helper(HostHelper{0x10001, "host_sleep", &host_sleep, nullptr, sig});
  auto xdp = ProgramType::from_section("xdp");
  REQUIRE(xdp.has_value());
  const auto packet = udp_packet(53);
  for (const auto& type : {ProgramType::plain(0), *xdp}) {  // the plain path and the test-run path time apart
    auto obj = vm.open_assembly("call 65537\nmov %r0, 2\nexit\n", type, "s");
    REQUIRE(obj.has_value());
    for (auto engine : kEngines) {
      auto prog = obj->load("s", {.engine = engine});
      INFO((prog ? "" : prog.error().reason));
      REQUIRE(prog.has_value());
      auto out = prog->run(RunInput{packet, {}, 4, nullptr});
      REQUIRE(out.has_value());
      CHECK(out->ns_per_run >= 2e6);        // each run slept 2 ms of wall time
      CHECK(out->cpu_ns_per_run > 0);       // filled in...
      CHECK(out->cpu_ns_per_run < 0.5e6);   // ...without the sleep
      auto single = prog->run(RunInput{packet, {}, 1, nullptr});
      REQUIRE(single.has_value());
      CHECK(single->ns_per_run == 0);       // a single run is not timed unless asked
      CHECK(single->cpu_ns_per_run == 0);
    }
  }
}

TEST_CASE("budget and unknown programs are errors, not crashes") {
  Vm vm;
  auto obj = vm.open_assembly("mov %r0, 0\nadd %r0, 1\nadd %r0, 1\nexit\n", ProgramType::plain(0), "b");
  REQUIRE(obj.has_value());
  auto prog = obj->load("b", {.budget_insns = 2});
  REQUIRE(prog.has_value());
  auto out = prog->run(std::span<const std::uint8_t>{});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == Errc::BudgetExceeded);
  auto none = obj->load("nope");
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().reason == "no program 'nope' (have: b)");
}

TEST_CASE("a context shorter than the type's is zero-padded: verified kprobe and tracepoint reads stay inside") {
  Vm vm;
  for (const std::uint32_t type : {2u /* kprobe: pt_regs */, 5u /* tracepoint */, 17u /* raw_tracepoint */}) {
    auto t = ProgramType::kernel(type);
    REQUIRE(t.has_value());
    // r0 = the context's last 8 bytes the verifier allows for pt_regs (di at 112) or the args.
    auto obj = vm.open_assembly("ldxdw %r0, [%r1+88]\nexit\n", *t, "read");
    REQUIRE(obj.has_value());
    for (auto engine : kEngines) {
      auto prog = obj->load("read", {.engine = engine});
      REQUIRE(prog.has_value());
      auto none = prog->run(RunInput{});
      REQUIRE(none.has_value());
      CHECK(none->r0 == 0);
      const std::uint8_t two[] = {1, 2};  // shorter than the field: the rest reads as zero
      auto short_ctx = prog->run(RunInput{.ctx = two});
      REQUIRE(short_ctx.has_value());
      CHECK(short_ctx->r0 == 0);
    }
  }
}

TEST_CASE("cgroup_sock runs on the given struct bpf_sock: stores to mark reach ctx_out, the hook decides access") {
  Vm vm;
  auto create = ProgramType::from_section("cgroup/sock_create");
  REQUIRE(create.has_value());
  CHECK(create->kernel_type == 9);
  // mark = family + 100; return family == AF_INET.
  const char* text = "ldxw %r2, [%r1+4]\nmov %r3, %r2\nadd %r3, 100\nstxw [%r1+16], %r3\nmov %r0, 0\n"
                     "jne %r2, 2, +1\nmov %r0, 1\nexit\n";
  auto obj = vm.open_assembly(text, *create, "mark");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("mark", {.engine = engine});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    const std::uint8_t sock[] = {0, 0, 0, 0, 2, 0, 0, 0};  // bound_dev_if 0, family AF_INET; the rest zero
    auto out = prog->run(RunInput{.ctx = sock});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1);
    REQUIRE(out->ctx_out.size() == sizeof(bpf_sock));
    CHECK(out->ctx_out[16] == 102);
  }
  // post_bind4 may not write mark (sock_filter_is_valid_access), and a return of 2 is refused everywhere.
  auto post_bind = ProgramType::from_section("cgroup/post_bind4");
  REQUIRE(post_bind.has_value());
  auto refused = vm.open_assembly(text, *post_bind, "mark");
  REQUIRE(refused.has_value());
  auto r = refused->load("mark");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::Rejected);
  auto two = vm.open_assembly("mov %r0, 2\nexit\n", *create, "two");
  REQUIRE(two.has_value());
  CHECK_FALSE(two->load("two").has_value());
}

TEST_CASE("sk_skb runs on stream bytes, lwt_seg6local verifies but does not run, cgroup_sockopt needs its hook and runs on struct bpf_sockopt") {
  Vm vm;
  // r0 = __sk_buff.len: the same text is a valid sk_skb and lwt_seg6local program.
  const std::uint8_t stream[5] = {'h', 'e', 'l', 'l', 'o'};
  for (const char* section : {"sk_skb/stream_verdict", "lwt_seg6local"}) {
    auto t = ProgramType::from_section(section);
    REQUIRE(t.has_value());
    auto obj = vm.open_assembly("ldxw %r0, [%r1+0]\nexit\n", *t, "len");
    REQUIRE(obj.has_value());
    auto prog = obj->load("len");
    INFO(section << ": " << (prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    auto out = prog->run(RunInput{.data = stream});
    if (std::string_view(section) == "lwt_seg6local") {
      REQUIRE_FALSE(out.has_value());
      CHECK(out.error().code == Errc::Unsupported);
    } else {
      REQUIRE(out.has_value());
      CHECK(out->r0 == sizeof stream);
      CHECK(out->data_out == std::vector<std::uint8_t>(std::begin(stream), std::end(stream)));
    }
  }
  // optlen = 4 when level is SOL_SOCKET (1); return 1.
  const char* text = "ldxw %r2, [%r1+24]\njne %r2, 1, +1\nstw [%r1+32], 4\nmov %r0, 1\nexit\n";
  auto bare = ProgramType::kernel(25);
  REQUIRE(bare.has_value());
  auto no_hook = vm.open_assembly(text, *bare, "opt");
  REQUIRE(no_hook.has_value());
  auto refused = no_hook->load("opt");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().reason.find("cgroup/getsockopt") != std::string::npos);
  auto get = ProgramType::from_section("cgroup/getsockopt");
  REQUIRE(get.has_value());
  auto obj = vm.open_assembly(text, *get, "opt");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("opt", {.engine = engine});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    bpf_sockopt in{};
    in.level = 1;
    auto out = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&in), sizeof in)});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1);
    REQUIRE(out->ctx_out.size() >= sizeof in);
    CHECK(out->ctx_out[offsetof(bpf_sockopt, optlen)] == 4);
  }
}

TEST_CASE("cgroup_sock_addr needs its hook, and connect4 rewrites the destination in the given struct bpf_sock_addr") {
  Vm vm;
  // user_ip4 = 127.0.0.1 (network order), user_port = htons(8080) when the port is 80; return 1.
  const char* text = "ldxw %r2, [%r1+24]\njne %r2, 0x5000, +4\nstw [%r1+4], 0x0100007f\n"
                     "stw [%r1+24], 0x901f\nmov %r0, 1\nexit\nmov %r0, 1\nexit\n";
  auto bare = ProgramType::kernel(18);
  REQUIRE(bare.has_value());
  auto no_hook = vm.open_assembly(text, *bare, "redirect");
  REQUIRE(no_hook.has_value());
  auto refused = no_hook->load("redirect");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == Errc::Unsupported);
  CHECK(refused.error().reason.find("cgroup/connect4") != std::string::npos);

  auto connect4 = ProgramType::from_section("cgroup/connect4");
  REQUIRE(connect4.has_value());
  auto obj = vm.open_assembly(text, *connect4, "redirect");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("redirect", {.engine = engine});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    bpf_sock_addr in{};
    in.user_family = 2;
    in.user_port = 0x5000;  // htons(80)
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&in);
    auto out = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(bytes, sizeof in)});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1);
    bpf_sock_addr after{};
    REQUIRE(out->ctx_out.size() == sizeof after + sizeof(bpf_sock));  // the socket `sk` points to follows
    std::memcpy(&after, out->ctx_out.data(), sizeof after);
    CHECK(after.user_ip4 == 0x0100007f);
    CHECK(after.user_port == 0x901f);
    CHECK(after.sk == nullptr);
  }
  // The IPv6 hooks have no user_ip4.
  auto connect6 = ProgramType::from_section("cgroup/connect6");
  REQUIRE(connect6.has_value());
  auto v6 = vm.open_assembly(text, *connect6, "redirect");
  REQUIRE(v6.has_value());
  auto r = v6->load("redirect");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::Rejected);
}

TEST_CASE("bpf_sock_addr.sk points to the struct bpf_sock the caller puts after the context") {
  Vm vm;
  // r0 = (sk->protocol + sk->family) & 1, through the PTR_TO_SOCKET the verifier gives sk.
  const char* text = "ldxdw %r2, [%r1+64]\nldxw %r0, [%r2+12]\nldxw %r3, [%r2+4]\nadd %r0, %r3\n"
                     "and %r0, 1\nexit\n";
  auto connect4 = ProgramType::from_section("cgroup/connect4");
  REQUIRE(connect4.has_value());
  auto obj = vm.open_assembly(text, *connect4, "sk");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("sk", {.engine = engine, .checked = true});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    struct {
      bpf_sock_addr addr;
      bpf_sock sock;
    } in{};
    in.addr.sk = reinterpret_cast<bpf_sock*>(std::uintptr_t{0x1234});  // the caller's bytes there do not count
    in.sock.family = 2;
    in.sock.protocol = 17;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&in);
    auto out = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(bytes, sizeof in)});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1);  // (17 + 2) & 1
    auto zeroed = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(bytes, sizeof in.addr)});
    REQUIRE(zeroed.has_value());
    CHECK(zeroed->r0 == 0);  // no socket bytes given: a zero-filled struct bpf_sock
  }
}

TEST_CASE("raw_tracepoint_writable: args[0] is the buffer after args[], as long as the furthest byte the program reaches") {
  Vm vm;
  auto type = ProgramType::from_section("raw_tp.w/bpf_testmod_test_writable_bare");
  REQUIRE(type.has_value());
  // buf[16..24) = buf[0..8) + args[1]; r0 = buf[8..16): the buffer reaches byte 24.
  const char* text = "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nldxdw %r4, [%r2+0]\nadd %r4, %r3\n"
                     "mov %r5, %r2\nadd %r5, 16\nstxdw [%r5+0], %r4\nldxdw %r0, [%r2+8]\nexit\n";
  auto obj = vm.open_assembly(text, *type, "w");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("w", {.engine = engine, .checked = true});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    struct {
      std::uint64_t args[12];
      std::uint64_t buf[2];  // 16 of the 24 bytes: the rest is zero-filled
    } in{};
    in.args[0] = 0x1234;  // the caller's bytes there do not count
    in.args[1] = 5;
    in.buf[0] = 100;
    in.buf[1] = 7;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&in);
    auto out = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(bytes, sizeof in)});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 7);
    REQUIRE(out->ctx_out.size() == 96 + 24);
    std::uint64_t args0 = 1, written = 0;
    std::memcpy(&args0, out->ctx_out.data(), 8);
    std::memcpy(&written, out->ctx_out.data() + 96 + 16, 8);
    CHECK(args0 == 0);  // the buffer's address is not shown
    CHECK(written == 105);
  }
  // Past 64 KiB of buffer (the verifier allows offsets up to 2^29) the program verifies but does not run.
  auto far = vm.open_assembly("ldxdw %r2, [%r1+0]\nadd %r2, 0x100000\nstb [%r2+0], 1\nmov %r0, 0\nexit\n", *type, "far");
  REQUIRE(far.has_value());
  auto prog = far->load("far", {});
  REQUIRE(prog.has_value());
  auto out = prog->run(RunInput{});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().message().find("reaches byte 1048577 of its tracepoint buffer") != std::string::npos);
}

TEST_CASE("sock_ops runs on the caller's struct bpf_sock_ops: sk NULL, an empty packet, cb flags into the context") {
  Vm vm;
  // r7 = bpf_sock_ops_cb_flags_set(ctx, 0x1ff); 1 when r7 is 0x180 (the unsupported bits), sk is NULL
  // and the packet holds no byte; else 0.
  const char* text =
      "mov %r6, %r1\nmov %r2, 0x1ff\ncall 59\nmov %r7, %r0\n"
      "ldxdw %r2, [%r6+184]\njne %r2, 0, +5\n"
      "ldxdw %r2, [%r6+192]\nldxdw %r3, [%r6+200]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +2\n"
      "mov %r0, 0\nexit\nmov %r0, 0\njne %r7, 0x180, +1\nmov %r0, 1\nexit\n";
  auto type = ProgramType::from_section("sockops");
  REQUIRE(type.has_value());
  auto obj = vm.open_assembly(text, *type, "ops");
  REQUIRE(obj.has_value());
  for (auto engine : kEngines) {
    auto prog = obj->load("ops", {.engine = engine, .checked = true});
    INFO((prog ? std::string() : prog.error().message()));
    REQUIRE(prog.has_value());
    bpf_sock_ops in{};
    in.is_fullsock = 1;
    in.sk = reinterpret_cast<bpf_sock*>(std::uintptr_t{0x1234});  // replaced by NULL
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&in);
    auto out = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(bytes, sizeof in)});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 1);
    bpf_sock_ops after{};
    REQUIRE(out->ctx_out.size() >= sizeof after);
    std::memcpy(&after, out->ctx_out.data(), sizeof after);
    CHECK(after.bpf_sock_ops_cb_flags == 0x7f);
    CHECK(after.sk == nullptr);
    in.is_fullsock = 0;  // no full socket: -EINVAL, nothing stored
    out = prog->run(RunInput{.ctx = std::span<const std::uint8_t>(bytes, sizeof in)});
    REQUIRE(out.has_value());
    CHECK(out->r0 == 0);
  }
}

namespace {

// For each `call 1` (bpf_map_lookup_elem) in a JIT listing: whether its native code calls out.
std::vector<bool> lookup_calls_out(const std::string& listing) {
  std::vector<bool> out;
  bool in_lookup = false;
  std::size_t start = 0;
  while (start < listing.size()) {
    const auto end = std::min(listing.find('\n', start), listing.size());
    const std::string line = listing.substr(start, end - start);
    start = end + 1;
    if (line.rfind("pc ", 0) == 0) {
      in_lookup = line.size() >= 8 && line.compare(line.size() - 8, 8, ": call 1") == 0;
      if (in_lookup) out.push_back(false);
    } else if (in_lookup && line.rfind("call ", 0) == 0) {
      out.back() = true;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the JIT inlines lookups in plain arrays, as the kernel's JIT does, and calls the helper for hashes") {
  Vm vm;
  auto obj = vm.open_elf_file(BPFVM_EXAMPLES_DIR "/maps.bpf.o");
  REQUIRE(obj.has_value());
  auto array_user = obj->load("tail_a", ProgramOptions{.engine = Engine::Jit});  // stats: BPF_MAP_TYPE_ARRAY
  REQUIRE(array_user.has_value());
  auto listing = array_user->native_listing();
  REQUIRE(listing.has_value());
  CHECK(lookup_calls_out(*listing) == std::vector<bool>{false});

  auto hash_user = obj->load("classify", ProgramOptions{.engine = Engine::Jit});  // flows: BPF_MAP_TYPE_HASH first
  REQUIRE(hash_user.has_value());
  listing = hash_user->native_listing();
  REQUIRE(listing.has_value());
  const auto calls = lookup_calls_out(*listing);
  REQUIRE_FALSE(calls.empty());
  CHECK(calls.front());
}

namespace {

// The object's bytes with section `name`'s header claiming `size` bytes (what a hostile object can
// do for .bss: SHT_NOBITS holds no bytes in the file).
std::vector<std::uint8_t> with_section_size(std::vector<std::uint8_t> elf, std::string_view name, std::uint64_t size) {
  auto u16 = [&](std::size_t at) { std::uint16_t v; std::memcpy(&v, &elf[at], 2); return v; };
  auto u32 = [&](std::size_t at) { std::uint32_t v; std::memcpy(&v, &elf[at], 4); return v; };
  auto u64 = [&](std::size_t at) { std::uint64_t v; std::memcpy(&v, &elf[at], 8); return v; };
  const std::uint64_t shoff = u64(0x28);
  const std::uint16_t shnum = u16(0x3c), shstrndx = u16(0x3e);
  const std::uint64_t strtab = u64(shoff + 64u * shstrndx + 24);
  for (std::uint16_t i = 0; i < shnum; ++i) {
    const std::uint64_t h = shoff + 64u * i;
    const char* section_name = reinterpret_cast<const char*>(&elf[strtab + u32(h)]);
    if (name != section_name) continue;
    std::memcpy(&elf[h + 32], &size, 8);
    return elf;
  }
  FAIL("no section " << name);
  return elf;
}

std::vector<std::uint8_t> file_bytes(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a .bss header claiming 2 GiB: listed without allocating, refused for a run by the map memory cap") {
  const auto huge = with_section_size(file_bytes(BPFVM_EXAMPLES_DIR "/globals_subprog.bpf.o"), ".bss", 0x7fffffff);
  Vm vm;  // default cap: 256 MiB

  // objdump's way: nothing is allocated, so this takes microseconds, not 2 GiB of zeroes.
  LoadOptions inspect;
  inspect.create_maps = false;
  auto listed = vm.open_elf(huge, inspect);
  REQUIRE(listed.has_value());
  CHECK(listed->report(true).find("\"value_size\":2147483647") != std::string::npos);
  CHECK(listed->maps().empty());
  auto not_loadable = listed->load("xdp_main");
  REQUIRE_FALSE(not_loadable.has_value());
  CHECK(not_loadable.error().reason.find("opened without its maps") != std::string::npos);

  // For a run: refused before any map is allocated, naming the map and the cap.
  auto opened = vm.open_elf(huge, {});
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().reason.find("map '.bss'") != std::string::npos);
  CHECK(opened.error().reason.find("above the cap of 268435456 bytes") != std::string::npos);

  // Above the kernel's INT_MAX value size the loader refuses it at once (E2BIG), as BPF_MAP_CREATE would.
  auto too_big = vm.open_elf(with_section_size(huge, ".bss", 0x80000000ull), inspect);
  REQUIRE_FALSE(too_big.has_value());
  CHECK(too_big.error().reason.find("E2BIG") != std::string::npos);
}

TEST_CASE("the map memory cap counts every map of an object, and 0 lifts it") {
  const auto bytes = file_bytes(BPFVM_EXAMPLES_DIR "/xdp_parse.bpf.o");
  VmOptions small;
  small.nr_cpus = 2;
  small.max_map_memory_bytes = 64;
  auto refused = Vm(small).open_elf(bytes, {});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().reason.find("map 'rxcnt'") != std::string::npos);
  CHECK(refused.error().reason.find("VmOptions::max_map_memory_bytes") != std::string::npos);
  small.max_map_memory_bytes = 0;
  CHECK(Vm(small).open_elf(bytes, {}).has_value());
}

TEST_CASE("verify_only: maps are checked but not allocated, so the map memory cap applies to runs only") {
  // A 300 MiB .bss (Katran's balancer has a 268 MB map): over the default 256 MiB cap.
  const auto big = with_section_size(file_bytes(BPFVM_EXAMPLES_DIR "/globals_subprog.bpf.o"), ".bss", 300u << 20);
  Vm vm;
  auto for_run = vm.open_elf(big, {});
  REQUIRE_FALSE(for_run.has_value());
  CHECK(for_run.error().reason.find("above the cap of 268435456 bytes") != std::string::npos);

  LoadOptions verify_only;
  verify_only.verify_only = true;
  auto opened = vm.open_elf(big, verify_only);
  REQUIRE(opened.has_value());
  CHECK(opened->maps().empty());
  auto loaded = opened->load("xdp_main");
  REQUIRE(loaded.has_value());
  CHECK(loaded->verifier_report().verified);
  CHECK(loaded->verifier_report().insns_processed > 0);
  std::vector<std::uint8_t> packet(64);
  auto ran = loaded->run(packet);
  REQUIRE_FALSE(ran.has_value());
  CHECK(ran.error().reason.find("LoadOptions::verify_only") != std::string::npos);

  // The same verdicts as a full load: a rejected program is rejected too.
  auto full = vm.open_elf(file_bytes(BPFVM_EXAMPLES_DIR "/globals_subprog.bpf.o"), {});
  REQUIRE(full.has_value());
  auto full_loaded = full->load("xdp_main");
  REQUIRE(full_loaded.has_value());
  CHECK(full_loaded->verifier_report().insns_processed == loaded->verifier_report().insns_processed);

}

TEST_CASE("verifier bounds set by the host reject with the bound's name") {
  // A 200-iteration loop: 1,000+ processed insns, dozens of stored states.
  const char* text =
      "mov %r0, 0\n"
      "mov %r6, 0\n"
      "loop:\n"
      "add %r0, 1\n"
      "add %r6, 1\n"
      "jlt %r6, 20000, loop\n"
      "exit\n";
  Vm vm;
  auto obj = vm.open_assembly(text, ProgramType::plain(), "loop");
  REQUIRE(obj.has_value());
  CHECK(obj->load("loop").has_value());
  struct Case {
    ProgramOptions options;
    const char* bound;
  };
  std::vector<Case> cases(3);
  cases[0].options.max_verifier_states = 10;
  cases[0].bound = "ProgramOptions::max_verifier_states";
  cases[1].options.max_verifier_memory_bytes = 4096;
  cases[1].bound = "ProgramOptions::max_verifier_memory_bytes";
  cases[2].options.max_verifier_time_us = 1;
  cases[2].bound = "ProgramOptions::max_verifier_time_us";
  for (const auto& c : cases) {
    INFO(c.bound);
    auto p = obj->load("loop", c.options);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().code == Errc::Rejected);
    CHECK(p.error().reason.find(c.bound) != std::string::npos);
    CHECK(p.error().reason.find("verification stopped") != std::string::npos);
  }
}
