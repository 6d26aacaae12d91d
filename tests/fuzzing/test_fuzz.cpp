// bpfvm_fuzz and the interpreter's coverage mode: edge counting, properties, the harness on the
// planted-bug example, map restoring, determinism, and lcov output.
#include <catch2/catch.hpp>
#include <cerrno>

#include <filesystem>
#include <fstream>

#include "bpfvm/fuzz.hpp"
#include "vm/assembler.hpp"
#include "vm/interpreter.hpp"
#include "vm/run_context.hpp"

using namespace bpfvm;

namespace {

vm::Program program_of(std::string_view text) {
  auto insns = vm::assemble(text);
  REQUIRE(insns.has_value());
  auto p = vm::decode_program(std::move(*insns), "test");
  REQUIRE(p.has_value());
  return std::move(*p);
}

// r0 = number of input bytes >= 0x80 among the first r2, in a loop: one jump per byte plus the loop test.
constexpr const char* kCountHigh =
    "mov %r0, 0\n"
    "mov %r3, 0\n"
    "loop:\n"
    "jge %r3, %r2, done\n"      // pc 2
    "mov %r4, %r1\n"
    "add %r4, %r3\n"
    "ldxb %r5, [%r4+0]\n"
    "add %r3, 1\n"
    "jlt %r5, 0x80, loop\n"     // pc 7
    "add %r0, 1\n"
    "ja loop\n"
    "done:\n"
    "exit\n";

struct Run {
  Result<vm::ExecResult> result;
  std::vector<std::uint32_t> edges;
};

Run run_counting(const vm::Interpreter& in, std::vector<std::uint8_t> mem, vm::ExecOptions options) {
  std::vector<std::uint32_t> edges(2 * in.program().size(), 0);
  if (options.edge_counters != nullptr) options.edge_counters = edges.data();
  vm::RunContext ctx;
  const auto base = reinterpret_cast<std::uintptr_t>(mem.data());
  ctx.regions.push_back(vm::Region{base, mem.size(), true, "input"});
  const std::uint64_t args[] = {base, mem.size()};
  auto r = in.run(ctx, args, options);
  return Run{std::move(r), std::move(edges)};
}

std::string planted_object() { return BPFVM_FUZZ_EXAMPLE_OBJECT; }

// Ethernet + IPv4 + UDP to 6081 + shim {magic b7f1, class, flags, flow 0x01020304}.
std::vector<std::uint8_t> shim_packet(std::uint8_t klass, std::uint8_t flags = 0) {
  std::vector<std::uint8_t> p(64, 0);
  p[12] = 0x08;
  p[14] = 0x45;
  p[23] = 17;
  p[36] = 0x17;
  p[37] = 0xc1;
  p[42] = 0xb7;
  p[43] = 0xf1;
  p[44] = klass;
  p[45] = flags;
  p[46] = 1, p[47] = 2, p[48] = 3, p[49] = 4;
  return p;
}

fuzz::HarnessOptions with_property(const char* text) {
  fuzz::HarnessOptions o;
  auto p = fuzz::parse_property(text);
  REQUIRE(p.has_value());
  o.properties.push_back(*p);
  return o;
}

// Which engine calls: each engine installs its own callback hook, and the interpreter runs first.
std::uint64_t engine_probe(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, HelperCall* call) {
  static const vm::CallbackFn first_engine = call->invoke_callback;
  return call->invoke_callback == first_engine ? 1 : 2;
}

// A different answer on every call, like bpf_get_prandom_u32.
std::uint64_t counter(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, HelperCall* call) {
  return ++*static_cast<std::uint64_t*>(helper_user_data(call));
}

}  // namespace

TEST_CASE("coverage mode counts each conditional jump's edges and changes nothing else") {
  vm::HelperRegistry helpers;
  auto in = vm::Interpreter::create(program_of(kCountHigh), helpers, {}, vm::InterpreterOptions{.coverage = true});
  REQUIRE(in.has_value());
  const std::vector<std::uint8_t> mem = {0x01, 0x90, 0xff, 0x10, 0x80};
  auto plain = run_counting(*in, mem, {.checked = true});
  std::uint32_t dummy = 0;
  auto counted = run_counting(*in, mem, {.checked = false, .edge_counters = &dummy});
  REQUIRE(plain.result.has_value());
  REQUIRE(counted.result.has_value());
  CHECK(counted.result->r0 == 3);
  CHECK(counted.result->r0 == plain.result->r0);
  CHECK(counted.result->insns_executed == plain.result->insns_executed);
  // pc 2: five bytes fall through, the sixth test jumps to done; pc 7: three bytes >= 0x80 fall through.
  CHECK(counted.edges[2 * 2] == 5);
  CHECK(counted.edges[2 * 2 + 1] == 1);
  CHECK(counted.edges[2 * 7] == 3);
  CHECK(counted.edges[2 * 7 + 1] == 2);
  std::uint32_t sum = 0;
  for (auto e : counted.edges) sum += e;
  CHECK(sum == 11);

  // Coverage runs are checked even when ExecOptions::checked is off.
  auto oob = run_counting(*in, mem, {.edge_counters = &dummy});
  REQUIRE(oob.result.has_value());
  auto wild = vm::Interpreter::create(program_of("lddw %r1, 0x1000\nldxb %r0, [%r1+0]\nexit\n"), helpers, {},
                                      vm::InterpreterOptions{.coverage = true});
  REQUIRE(wild.has_value());
  auto fault = run_counting(*wild, {}, {.edge_counters = &dummy});
  REQUIRE_FALSE(fault.result.has_value());
  CHECK(fault.result.error().code == Errc::MemoryFault);
}

TEST_CASE("coverage runs need an interpreter prepared for them") {
  vm::HelperRegistry helpers;
  auto in = vm::Interpreter::create(program_of(kCountHigh), helpers);
  REQUIRE(in.has_value());
  CHECK_FALSE(in->has_coverage());
  std::uint32_t dummy = 0;
  auto r = run_counting(*in, {1, 2}, {.edge_counters = &dummy});
  REQUIRE_FALSE(r.result.has_value());
  CHECK(r.result.error().code == Errc::InvalidArgument);
}

TEST_CASE("properties parse") {
  auto a = fuzz::parse_property("retval!=2");
  REQUIRE(a.has_value());
  CHECK(a->subject == fuzz::Property::Subject::Retval);
  CHECK(a->op == fuzz::Property::Op::Ne);
  CHECK(a->value == 2);
  auto b = fuzz::parse_property(" stats[0x10] <= 7 ");
  REQUIRE(b.has_value());
  CHECK(b->subject == fuzz::Property::Subject::MapValue);
  CHECK(b->map == "stats");
  CHECK(b->key == 16);
  CHECK(b->op == fuzz::Property::Op::Le);
  auto c = fuzz::parse_property("flows[3] absent");
  REQUIRE(c.has_value());
  CHECK(c->subject == fuzz::Property::Subject::MapAbsent);
  CHECK_FALSE(fuzz::parse_property("retval").has_value());
  CHECK_FALSE(fuzz::parse_property("retval != x").has_value());
  CHECK_FALSE(fuzz::parse_property("[1]==2").has_value());
  CHECK_FALSE(fuzz::parse_property("m[k]==2").has_value());
}

TEST_CASE("the harness reports the planted bug's input and nothing on a good packet") {
  auto h = fuzz::Harness::open(planted_object(), "xdp_classify", with_property("retval!=0"));
  REQUIRE(h.has_value());
  CHECK(h->packet_input());
  CHECK(h->min_input_bytes() == 14);
  CHECK(h->edges_total() > 10);
  CHECK(h->compares_jit());
  auto good = h->run(shim_packet(3));
  CHECK_FALSE(good.finding.has_value());
  CHECK(good.retval == 2);  // XDP_PASS
  CHECK(good.new_coverage);
  auto bad = h->run(shim_packet(4));
  REQUIRE(bad.finding.has_value());
  CHECK(bad.finding->kind == fuzz::Finding::Kind::Property);
  CHECK(bad.finding->message.find("retval 0") != std::string::npos);
  auto short_packet = h->run(std::vector<std::uint8_t>(6, 0));
  CHECK(short_packet.rejected);
  // The dictionary holds the port and the magic, in packet byte order.
  const auto& dict = h->dictionary();
  CHECK(std::find(dict.begin(), dict.end(), std::vector<std::uint8_t>{0x17, 0xc1}) != dict.end());
  CHECK(std::find(dict.begin(), dict.end(), std::vector<std::uint8_t>{0xb7, 0xf1}) != dict.end());
}

TEST_CASE("maps are restored after every run, map properties see the run's writes") {
  auto h = fuzz::Harness::open(planted_object(), "xdp_classify", with_property("traced_flows[0x01020304] absent"));
  REQUIRE(h.has_value());
  auto untraced = h->run(shim_packet(1));
  CHECK_FALSE(untraced.finding.has_value());
  auto traced = h->run(shim_packet(1, 0x80));
  REQUIRE(traced.finding.has_value());
  CHECK(traced.finding->kind == fuzz::Finding::Kind::Property);
  CHECK(traced.finding->signature == "property:0");
  // Restored: the counter the runs bumped and the traced flow are gone again.
  auto stats = h->object().map("class_stats");
  REQUIRE(stats.has_value());
  std::uint32_t key = 1;
  std::uint64_t count = 99;
  REQUIRE(stats->lookup(key, count).has_value());
  CHECK(count == 0);
  auto flows = h->object().map("traced_flows");
  REQUIRE(flows.has_value());
  std::uint32_t flow = 0x01020304, value = 0;
  CHECK(flows->lookup(flow, value).error().sys_errno == ENOENT);
}

TEST_CASE("the fuzzer finds the planted bug, the same way for the same seed") {
  auto find = [](std::uint64_t seed, const std::string& dir) {
    auto h = fuzz::Harness::open(planted_object(), "xdp_classify", with_property("retval!=0"));
    REQUIRE(h.has_value());
    fuzz::FuzzOptions o;
    o.seed = seed;
    o.max_runs = 2'000'000;
    o.artifacts_dir = dir;
    std::string artifact;
    o.on_finding = [&](const fuzz::Finding&, const std::string& path, const fuzz::FuzzStatus&) { artifact = path; };
    auto status = fuzz::run_fuzzer(*h, o);
    REQUIRE(status.has_value());
    return std::pair{*status, artifact};
  };
  const auto dir = (std::filesystem::temp_directory_path() / "bpfvm-test-fuzz-artifacts").string();
  std::filesystem::remove_all(dir);
  const auto [first, artifact] = find(7, dir);
  CHECK(first.findings == 1);
  REQUIRE_FALSE(artifact.empty());
  const auto [second, artifact2] = find(7, dir);
  CHECK(second.execs == first.execs);
  CHECK(artifact2 == artifact);

  // The reproducer, replayed in a fresh harness, shows the same finding.
  std::ifstream f(artifact, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto h = fuzz::Harness::open(planted_object(), "xdp_classify", with_property("retval!=0"));
  REQUIRE(h.has_value());
  auto replay = h->run(bytes);
  REQUIRE(replay.finding.has_value());
  CHECK(replay.finding->kind == fuzz::Finding::Kind::Property);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a budget overrun is a fault finding with the source line") {
  Vm vm(VmOptions{.nr_cpus = 1});
  auto obj = vm.open_assembly(
      "ldxb %r2, [%r1+0]\nmov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, %r2, loop\nexit\n", ProgramType::plain(16), "spin");
  REQUIRE(obj.has_value());
  fuzz::HarnessOptions o;
  o.budget_insns = 100;
  auto h = fuzz::Harness::create(std::move(*obj), "spin", o);
  REQUIRE(h.has_value());
  CHECK_FALSE(h->run(std::vector<std::uint8_t>{10}).finding.has_value());
  auto over = h->run(std::vector<std::uint8_t>{200});
  REQUIRE(over.finding.has_value());
  CHECK(over.finding->kind == fuzz::Finding::Kind::Fault);
  CHECK(over.finding->signature.starts_with("fault:"));
}

TEST_CASE("the lcov report maps edges to source lines and branches") {
  Vm vm(VmOptions{.nr_cpus = 1});
  auto obj = vm.open_elf_file(planted_object());
  REQUIRE(obj.has_value());
  auto prog = obj->load("xdp_classify", ProgramOptions{.coverage = true});
  REQUIRE(prog.has_value());
  fuzz::CoverageReport report(*prog);
  CHECK(report.summary().lines_hit == 0);
  const auto packet = shim_packet(2);
  auto out = prog->run(RunInput{packet, {}, 1, nullptr, report.counters()});
  REQUIRE(out.has_value());
  CHECK(out->retval == 2);
  report.add_run();
  const auto text = report.lcov("planted");
  CHECK(text.starts_with("TN:planted\n"));
  CHECK(text.find("SF:") != std::string::npos);
  CHECK(text.find("planted_bug.bpf.c\n") != std::string::npos);
  CHECK(text.find("FN:") != std::string::npos);
  CHECK(text.find("FNDA:1,xdp_classify") != std::string::npos);
  CHECK(text.find("BRDA:") != std::string::npos);
  CHECK(text.find("end_of_record\n") != std::string::npos);
  const auto sum = report.summary();
  CHECK(sum.lines_found > 10);
  CHECK(sum.lines_hit > 10);
  CHECK(sum.lines_hit < sum.lines_found);  // the drop paths and the "cannot happen" return
  CHECK(sum.branches_found > 10);
  CHECK(sum.branches_hit > 5);
  CHECK(sum.branches_hit < sum.branches_found);
  // A run that passes RunInput::edge_counters to a program loaded without coverage is refused.
  auto plain = obj->load("xdp_classify");
  REQUIRE(plain.has_value());
  CHECK_FALSE(plain->run(RunInput{packet, {}, 1, nullptr, report.counters()}).has_value());
}

TEST_CASE("engines that disagree are a finding, a program that disagrees with itself is not") {
  HelperSignature sig;
  sig.known = true;
  sig.args = {ArgType::DontCare, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare, ArgType::DontCare};
  std::uint64_t calls = 0;
  Vm vm(VmOptions{.nr_cpus = 1});
  vm.add_helper(HostHelper{0x10000, "engine_probe", &engine_probe, nullptr, sig});
  vm.add_helper(HostHelper{0x10001, "counter", &counter, &calls, sig});
  auto probe = vm.open_assembly("call 65536\nexit\n", ProgramType::plain(16), "probe");
  REQUIRE(probe.has_value());
  auto h = fuzz::Harness::create(std::move(*probe), "probe");
  REQUIRE(h.has_value());
  REQUIRE(h->compares_jit());
  auto v = h->run(std::vector<std::uint8_t>{1, 2, 3});  // no jumps: the first input still compares
  REQUIRE(v.finding.has_value());
  CHECK(v.finding->kind == fuzz::Finding::Kind::EngineMismatch);
  CHECK(v.finding->message.find("interpreter 1, jit 2") != std::string::npos);

  auto random = vm.open_assembly("call 65537\nexit\n", ProgramType::plain(16), "random");
  REQUIRE(random.has_value());
  fuzz::HarnessOptions every;
  every.compare_every_input = true;
  auto r = fuzz::Harness::create(std::move(*random), "random", every);
  REQUIRE(r.has_value());
  for (int i = 0; i < 4; ++i) CHECK_FALSE(r->run(std::vector<std::uint8_t>{1}).finding.has_value());
  CHECK(calls >= 8);  // the JIT ran and the interpreter re-ran each time
}
