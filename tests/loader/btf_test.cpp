// Btf: type queries on hand-made blobs, validation failures, and the kernel's vmlinux BTF.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>

#include "loader/btf.hpp"
#include "tests/loader/builders.hpp"
#include "tests/skip.hpp"

using namespace bpfvm;
using namespace bpfvm::loader;
using namespace bpfvm::loader::test;

namespace {

std::string parse_error(const std::vector<std::uint8_t>& bytes) {
  auto r = Btf::parse(bytes);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::Malformed);
  return r.error().reason;
}

}  // namespace

TEST_CASE("Btf answers type queries") {
  BtfBuilder b;
  const auto int_id = b.add_int("int", 4, 1);
  const auto uchar = b.add_int("unsigned char", 1);
  const auto arr = b.add_array(uchar, int_id, 16);
  const auto s = b.add_struct("task", 24, {{"pid", int_id, 0}, {"comm", arr, 32}, {"flags", int_id, 160, 3}});
  const auto td = b.add_typedef("task_t", s);
  const auto cst = b.add_const(td);
  const auto ptr = b.add_ptr(cst);
  const auto e = b.add_enum("color", 4, {{"RED", 0}, {"BLUE", 7}});
  const auto proto = b.add_func_proto(int_id, {ptr});
  const auto fn = b.add_func("f", proto);
  const auto var = b.add_var("v", int_id);
  const auto ds = b.add_datasec(".data", 4, {{var, 0, 4}});
  const auto fl = b.add_float("double", 8);
  auto btf = Btf::parse(b.build());
  REQUIRE(btf);
  CHECK(btf->type_count() == b.count() + 1);
  CHECK(btf->kind(s) == BtfKind::Struct);
  CHECK(btf->name(s) == "task");
  CHECK(btf->vlen(s) == 3);
  CHECK(btf->member(s, 1).bit_offset == 32);
  CHECK(btf->member(s, 2).bitfield_size == 3);
  CHECK(btf->member(s, 2).bit_offset == 160);
  CHECK(btf->skip_mods_and_typedefs(cst) == s);
  CHECK(btf->resolve_size(cst) == 24u);
  CHECK(btf->resolve_size(arr) == 16u);
  CHECK(btf->resolve_size(ptr) == 8u);
  CHECK(btf->resolve_size(var) == 4u);
  CHECK_FALSE(btf->resolve_size(fn).has_value());
  CHECK(btf->enumerator(e, 1).value == 7);
  CHECK(btf->string_at(btf->enumerator(e, 1).name_off) == "BLUE");
  CHECK(btf->int_encoding(int_id) == 1);
  CHECK(btf->int_bits(int_id) == 32);
  CHECK(btf->find(BtfKind::Datasec, ".data") == ds);
  CHECK(btf->kind(fl) == BtfKind::Float);
  CHECK(btf->param(proto, 0).type == ptr);
  CHECK(btf_kind_name(BtfKind::FuncProto) == "FUNC_PROTO");
}

TEST_CASE("Btf refuses malformed blobs") {
  SECTION("bad magic") {
    BtfBuilder b;
    b.add_int("int", 4);
    auto bytes = b.build();
    bytes[0] = 0xeb;
    bytes[1] = 0x9f;  // big-endian magic
    CHECK(parse_error(bytes).find("magic") != std::string::npos);
  }
  SECTION("truncated type") {
    BtfBuilder b;
    b.add_int("int", 4);
    auto bytes = b.build();
    poke32(bytes, 12, 10);  // type_len cuts the INT short
    CHECK(parse_error(bytes).find("truncated") != std::string::npos);
  }
  SECTION("unknown kind") {
    BtfBuilder b;
    b.raw(0, 25, 0, false, 0);
    CHECK(parse_error(b.build()).find("unknown kind 25") != std::string::npos);
  }
  SECTION("reference out of range") {
    BtfBuilder b;
    b.add_ptr(42);
    CHECK(parse_error(b.build()).find("refers to type [42]") != std::string::npos);
  }
  SECTION("name outside the string section") {
    BtfBuilder b;
    b.raw(5000, 1, 0, false, 4, {32});
    CHECK(parse_error(b.build()).find("name offset 5000") != std::string::npos);
  }
  SECTION("typedef cycle") {
    BtfBuilder b;
    b.add_typedef("a", 2);
    b.add_typedef("b", 1);
    CHECK(parse_error(b.build()).find("cycle") != std::string::npos);
  }
  SECTION("self-referencing pointer") {
    BtfBuilder b;
    b.add_ptr(1);
    CHECK(parse_error(b.build()).find("cycle") != std::string::npos);
  }
  SECTION("reference chain too deep") {
    BtfBuilder b;
    b.add_int("int", 4);
    for (std::uint32_t i = 1; i <= 40; ++i) b.add_const(i);
    CHECK(parse_error(b.build()).find("deeper than 32") != std::string::npos);
  }
  SECTION("huge vlen runs past the section") {
    BtfBuilder b;
    b.raw(0, 4, 0xffff, false, 8);
    CHECK(parse_error(b.build()).find("runs past") != std::string::npos);
  }
  SECTION("strings not NUL-terminated") {
    BtfBuilder b;
    b.add_int("int", 4);
    auto bytes = b.build();
    bytes.back() = 'x';
    CHECK(parse_error(bytes).find("NUL") != std::string::npos);
  }
  SECTION("sections outside the blob") {
    BtfBuilder b;
    b.add_int("int", 4);
    auto bytes = b.build();
    poke32(bytes, 20, 1u << 20);
    CHECK(parse_error(bytes).find("outside the blob") != std::string::npos);
  }
}

TEST_CASE("Btf parses the running kernel's vmlinux BTF like bpftool") {
  const char* path = "/sys/kernel/btf/vmlinux";
  if (!std::filesystem::exists(path)) bpfvm::testing::skip_test("no /sys/kernel/btf/vmlinux (kernel built without CONFIG_DEBUG_INFO_BTF)");
  const auto bytes = slurp(path);
  auto btf = Btf::parse(bytes);
  REQUIRE(btf);
  const auto task = btf->find(BtfKind::Struct, "task_struct");
  REQUIRE(task);
  if (!std::filesystem::exists(BPFVM_BPFTOOL))
    bpfvm::testing::skip_test(std::string(BPFVM_BPFTOOL) + " not found (tools/setup installs bpftool)");
  // bpftool prints one "[id] KIND ..." line per type.
  std::string cmd = std::string(BPFVM_BPFTOOL) + " btf dump file " + path + " | grep -c '^\\['";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  unsigned long n = 0;
  REQUIRE(std::fscanf(p, "%lu", &n) == 1);
  pclose(p);
  CHECK(btf->type_count() - 1 == n);
}
