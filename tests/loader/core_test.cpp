// CO-RE: spec helpers, and the core_task example relocated against hand-made target BTFs.
#include <catch2/catch.hpp>

#include "loader/core_spec.hpp"
#include "loader/object.hpp"
#include "tests/loader/builders.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

std::vector<std::uint8_t> core_example() { return slurp(std::string(BPFVM_EXAMPLES_DIR) + "/core_task.bpf.o"); }

const AppliedReloc* find_reloc(const ProgramSpec& p, std::string_view needle) {
  for (const auto& r : p.relocations)
    if (r.target.find(needle) != std::string::npos) return &r;
  return nullptr;
}

// A small "kernel": task_struct with pid at byte 100, pid_type with PIDTYPE_TGID = 7.
std::vector<std::uint8_t> small_kernel_btf(bool second_flavor = false) {
  BtfBuilder b;
  const auto i = b.add_int("int", 4, 1);
  const auto l = b.add_int("long", 8, 1);
  b.add_struct("task_struct", 200, {{"state", l, 0}, {"pid", i, 800}, {"tgid", i, 832}});
  b.add_enum("pid_type", 4, {{"PIDTYPE_PID", 0}, {"PIDTYPE_TGID", 7}, {"PIDTYPE_MAX", 8}});
  if (second_flavor) b.add_struct("task_struct___v2", 16, {{"pid", i, 64}, {"tgid", i, 96}});
  return b.build();
}

LoadOptions options(const std::vector<std::uint8_t>& target) {
  LoadOptions o;
  o.target_btf = target;
  o.kconfig["LINUX_KERNEL_VERSION"] = "0x60100";
  return o;
}

}  // namespace

TEST_CASE("core_essential_name_len strips ___flavor suffixes") {
  CHECK(core_essential_name_len("task_struct___v2") == 11);
  CHECK(core_essential_name_len("task_struct") == 11);
  CHECK(core_essential_name_len("a___b") == 1);
  CHECK(core_essential_name_len("a____b") == 6);
  CHECK(core_essential_name_len("___") == 3);
}

TEST_CASE("core spec parsing and matching follow libbpf") {
  BtfBuilder lb;
  const auto li = lb.add_int("int", 4, 1);
  const auto ls = lb.add_struct("s", 8, {{"a", li, 0}, {"b", li, 32}});
  auto local = Btf::parse(lb.build());
  REQUIRE(local);
  BtfBuilder tb;
  const auto ti = tb.add_int("int", 4, 1);
  const auto inner = tb.add_struct("", 8, {{"x", ti, 0}, {"b", ti, 32}}, true);
  const auto ts = tb.add_struct("s___flavor", 24, {{"a", ti, 0}, {"", inner, 64}});
  auto targ = Btf::parse(tb.build());
  REQUIRE(targ);

  auto spec = core_parse_spec(*local, ls, "0:1", CoreKind::FieldByteOffset);
  REQUIRE(spec);
  CHECK(spec->bit_offset == 32);
  CoreSpec out;
  auto m = core_spec_match(*spec, *targ, ts, out);
  REQUIRE(m);
  CHECK(*m);
  CHECK(out.bit_offset == 64 + 32);  // found through the anonymous union

  CHECK_FALSE(core_parse_spec(*local, ls, "0:5", CoreKind::FieldByteOffset));
  CHECK_FALSE(core_parse_spec(*local, ls, "x", CoreKind::FieldByteOffset));
  CHECK_FALSE(core_parse_spec(*local, ls, "0:1", CoreKind::TypeSize));
  CHECK(core_types_are_compat(*local, li, *targ, ti));
  CHECK_FALSE(core_types_are_compat(*local, li, *targ, ts));
}

TEST_CASE("core_task relocates against a hand-made target BTF") {
  const auto bytes = core_example();
  const auto target = small_kernel_btf();
  auto obj = load_object(bytes, options(target));
  REQUIRE(obj);
  const auto& p = obj->programs.at(0);
  const auto* pid = find_reloc(p, "byte_off struct task_struct.pid");
  REQUIRE(pid);
  CHECK(pid->value == 100);
  CHECK(p.program.insns[pid->insn].imm == 100);  // the `r += off` feeding bpf_probe_read_kernel
  CHECK(find_reloc(p, "type_size struct task_struct")->value == 200);
  CHECK(find_reloc(p, "enumval_value enum pid_type::PIDTYPE_TGID")->value == 7);
  CHECK(find_reloc(p, "field_exists struct task_struct.tgid")->value == 1);
  CHECK(find_reloc(p, "field_exists struct task_struct___future")->value == 0);
  CHECK(find_reloc(p, "type_exists struct task_struct")->value == 1);
  // The unguarded-by-the-loader read of a field no kernel has becomes `call 0xbad2310`.
  const AppliedReloc* poisoned = nullptr;
  for (const auto& r : p.relocations)
    if (r.kind == AppliedReloc::Kind::CorePoisoned) poisoned = &r;
  REQUIRE(poisoned);
  CHECK(p.program.insns[poisoned->insn].code == 0x85);
  CHECK(p.program.insns[poisoned->insn].imm == kCorePoisonHelperId);
}

TEST_CASE("core_task: missing types read as 0 and ambiguous candidates fail") {
  const auto bytes = core_example();
  SECTION("target without task_struct") {
    BtfBuilder b;
    b.add_int("int", 4, 1);
    const auto target = b.build();
    auto obj = load_object(bytes, options(target));
    REQUIRE(obj);
    const auto& p = obj->programs.at(0);
    CHECK(find_reloc(p, "type_exists struct task_struct")->value == 0);
    CHECK(find_reloc(p, "byte_off struct task_struct.pid")->kind == AppliedReloc::Kind::CorePoisoned);
  }
  SECTION("two flavors disagree") {
    const auto target = small_kernel_btf(true);
    auto obj = load_object(bytes, options(target));
    REQUIRE_FALSE(obj);
    CHECK(obj.error().reason.find("ambiguity") != std::string::npos);
  }
  SECTION("no target BTF") {
    LoadOptions o;
    o.kconfig["LINUX_KERNEL_VERSION"] = "1";
    auto obj = load_object(bytes, o);
    REQUIRE_FALSE(obj);
    CHECK(obj.error().code == Errc::InvalidArgument);
  }
  SECTION("kconfig value missing") {
    const auto target = small_kernel_btf();
    LoadOptions o;
    o.target_btf = target;
    auto obj = load_object(bytes, o);
    REQUIRE_FALSE(obj);
    CHECK(obj.error().reason.find("LINUX_KERNEL_VERSION") != std::string::npos);
  }
}
