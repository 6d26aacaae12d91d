// Kernel semantics of individual helpers, called directly: errnos, formatting, parsing, checksums.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "helper_call.hpp"
#include "maps/map.hpp"
#include "maps/prog_array_map.hpp"

using namespace bpfvm;

namespace {

std::int64_t snprintf_call(HelperCall& h, char* out, std::size_t size, const char* fmt,
                           std::vector<std::uint64_t> args) {
  return h(BPF_FUNC_snprintf, addr(out), size, addr(fmt), args.empty() ? 0 : addr(args.data()), args.size() * 8);
}

}  // namespace

TEST_CASE("bpf_trace_printk formats into the sink and returns the length") {
  HelperCall h;
  const char fmt[] = "val %u/%d %s\n";
  const char name[] = "eth0";
  CHECK(h(BPF_FUNC_trace_printk, addr(fmt), sizeof fmt, 7, -3, addr(name)) == 14);
  REQUIRE(h.trace.size() == 1);
  CHECK(h.trace[0] == "val 7/-3 eth0\n");
  const char no_nul[4] = {'a', 'b', 'c', 'd'};
  CHECK(h(BPF_FUNC_trace_printk, addr(no_nul), sizeof no_nul, 0, 0, 0) == -EINVAL);
  const char four[] = "%d %d %d %d";
  CHECK(h(BPF_FUNC_trace_printk, addr(four), sizeof four, 1, 2, 3) == -EINVAL);
  const char prec[] = "%.2d";
  CHECK(h(BPF_FUNC_trace_printk, addr(prec), sizeof prec, 1, 0, 0) == -EINVAL);
  const char bad_str[] = "[%s]";
  CHECK(h(BPF_FUNC_trace_printk, addr(bad_str), sizeof bad_str, 8, 0, 0) == 2);  // unreadable: empty
  CHECK(h.trace.back() == "[]");
  CHECK(h.trace.size() == 2);
}

TEST_CASE("bpf_snprintf: kernel conversions, truncation, length including NUL") {
  HelperCall h;
  char out[64];
  const char ab[] = "ab";
  CHECK(snprintf_call(h, out, sizeof out, "%d %5s|%-3c|%llx %%|%lu", {std::uint64_t(-5), addr(ab), 'z', 0xdead, ~0ull}) ==
        static_cast<std::int64_t>(std::strlen("-5    ab|z  |dead %|18446744073709551615") + 1));
  CHECK(std::string(out) == "-5    ab|z  |dead %|18446744073709551615");
  CHECK(snprintf_call(h, out, 4, "%d%d", {1234, 5}) == 6);
  CHECK(std::string(out) == "123");
  const std::uint8_t ip[4] = {192, 168, 0, 1};
  CHECK(snprintf_call(h, out, sizeof out, "%pI4 %pi4", {addr(ip), addr(ip)}) > 0);
  CHECK(std::string(out) == "192.168.0.1 192.168.000.001");
  CHECK(snprintf_call(h, out, sizeof out, "%x %X %05d %+d", {255, 255, 42, 7}) > 0);
  CHECK(std::string(out) == "ff FF 00042 +7");
  CHECK(snprintf_call(h, out, sizeof out, "%d %d", {1}) == -EINVAL);           // more conversions than data
  CHECK(snprintf_call(h, out, sizeof out, "%f", {1}) == -EINVAL);              // no floats
  CHECK(snprintf_call(h, out, sizeof out, "%lld%q", {1, 2}) == -EINVAL);
  std::uint64_t one = 1;
  CHECK(h(BPF_FUNC_snprintf, addr(out), sizeof out, addr("%d"), addr(&one), 7) == -EINVAL);  // data_len % 8
  std::vector<std::uint64_t> many(13, 0);
  CHECK(h(BPF_FUNC_snprintf, addr(out), sizeof out, addr("x"), addr(many.data()), 13 * 8) == -EINVAL);
}

TEST_CASE("bpf_strtol / bpf_strtoul: bases, consumed bytes, errors") {
  HelperCall h;
  long long res = 0;
  auto strtol = [&](const char* s, std::uint64_t flags) {
    return h(BPF_FUNC_strtol, addr(s), std::strlen(s), flags, addr(&res));
  };
  auto strtoul = [&](const char* s, std::uint64_t flags) {
    return h(BPF_FUNC_strtoul, addr(s), std::strlen(s), flags, addr(&res));
  };
  CHECK(strtol("  -0x1f", 0) == 7);
  CHECK(res == -31);
  CHECK(strtol("0777", 0) == 4);
  CHECK(res == 511);
  CHECK(strtol("12abc", 10) == 2);
  CHECK(res == 12);
  CHECK(strtol("ff", 16) == 2);
  CHECK(res == 255);
  CHECK(strtol("0x1A", 16) == 4);
  CHECK(res == 26);
  CHECK(strtol("0x", 0) == 1);  // "0x" without a hex digit: octal 0, one byte
  CHECK(res == 0);
  CHECK(strtol("0x", 16) == -EINVAL);
  CHECK(strtol("abc", 10) == -EINVAL);
  CHECK(strtol("-", 10) == -EINVAL);
  CHECK(strtol("12", 3) == -EINVAL);
  CHECK(strtol("12", 10 | 0x20) == -EINVAL);
  CHECK(strtol("9223372036854775807", 10) == 19);
  CHECK(res == LLONG_MAX);
  CHECK(strtol("-9223372036854775808", 10) == 20);
  CHECK(res == LLONG_MIN);
  CHECK(strtol("9223372036854775808", 10) == -ERANGE);
  CHECK(strtol("99999999999999999999", 10) == -ERANGE);
  CHECK(strtoul("18446744073709551615", 10) == 20);
  CHECK(static_cast<unsigned long long>(res) == ULLONG_MAX);
  CHECK(strtoul("-5", 10) == -EINVAL);
}

TEST_CASE("bpf_strtol / bpf_strtoul: the kernel's isspace, *res zeroed on an error") {
  HelperCall h;
  long long res = 0;
  // lib/ctype.c counts 0xa0 (Latin-1 no-break space) as a space; the C library's isspace does not.
  const char nbsp[] = "\xa0\v42";
  CHECK(h(BPF_FUNC_strtol, addr(nbsp), 4, 10, addr(&res)) == 4);
  CHECK(res == 42);
  CHECK(h(BPF_FUNC_strtoul, addr(nbsp), 4, 10, addr(&res)) == 4);
  CHECK(res == 42);
  res = 77;
  CHECK(h(BPF_FUNC_strtol, addr("x"), 1, 10, addr(&res)) == -EINVAL);
  CHECK(res == 0);  // bpf_strtol: *res = 0 before parsing
  res = 77;
  CHECK(h(BPF_FUNC_strtoul, addr("-1"), 2, 10, addr(&res)) == -EINVAL);
  CHECK(res == 0);
  res = 77;
  CHECK(h(BPF_FUNC_strtoul, addr("99999999999999999999"), 20, 10, addr(&res)) == -ERANGE);
  CHECK(res == 0);
}

TEST_CASE("bpf_sysctl_*: name, current and new value, set_new_value (kernel/bpf/cgroup.c)") {
  HelperCall h;
  bpfvm::helpers::SysctlRun sysctl;
  sysctl.name = "net/ipv4/tcp_mem";
  sysctl.current_value = {'1', ' ', '2', '\n'};
  sysctl.new_value = {'7', '\n'};
  std::uint32_t ctx[2] = {1, 0};  // struct bpf_sysctl: write = 1, file_pos = 0
  std::uint8_t buf[32];
  auto fill = [&] { std::memset(buf, 0xaa, sizeof buf); };
  auto text = [&](std::size_t n) { return std::string(reinterpret_cast<const char*>(buf), n); };

  // No sysctl given to the run: it stops, naming the helper.
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 32, 0) == 0);
  CHECK(h.run.helper_fault.find("bpf_sysctl_get_name is not supported yet") != std::string::npos);
  h.state.sysctl = &sysctl;

  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 32, 0) == 16);
  CHECK(text(17) == std::string("net/ipv4/tcp_mem\0", 17));
  CHECK(buf[17] == 0xaa);  // strscpy does not pad
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 32, BPF_F_SYSCTL_BASE_NAME) == 7);
  CHECK(text(8) == std::string("tcp_mem\0", 8));
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 32, BPF_F_SYSCTL_BASE_NAME | 2) == 7);  // other bits ignored
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 6, 0) == -E2BIG);  // cut inside a directory
  CHECK(text(6) == std::string("net/i\0", 6));
  CHECK(buf[6] == 0xaa);
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 16, 0) == -E2BIG);  // no room for the NUL
  CHECK(text(16) == std::string("net/ipv4/tcp_me\0", 16));
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_name, addr(ctx), addr(buf), 17, 0) == 16);

  fill();
  CHECK(h(BPF_FUNC_sysctl_get_current_value, addr(ctx), addr(buf), 32) == 4);
  CHECK(text(32) == std::string("1 2\n") + std::string(28, '\0'));  // zero-padded
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_current_value, addr(ctx), addr(buf), 4) == -E2BIG);
  CHECK(text(5) == std::string("1 2\0\xaa", 5));
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_current_value, addr(ctx), addr(buf), 0) == -E2BIG);
  CHECK(buf[0] == 0xaa);

  fill();
  CHECK(h(BPF_FUNC_sysctl_get_new_value, addr(ctx), addr(buf), 8) == 2);
  CHECK(text(9) == std::string("7\n\0\0\0\0\0\0\xaa", 9));
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_new_value, addr(ctx), addr(buf), 2) == -E2BIG);
  CHECK(text(3) == std::string("7\0\xaa", 3));

  const char value[] = "4096 8192";
  CHECK(h(BPF_FUNC_sysctl_set_new_value, addr(ctx), addr(value), 0) == -EINVAL);
  std::vector<char> page(4096, '1');
  CHECK(h(BPF_FUNC_sysctl_set_new_value, addr(ctx), addr(page.data()), 4096) == -E2BIG);  // > PAGE_SIZE - 1
  CHECK_FALSE(sysctl.new_updated);
  CHECK(h(BPF_FUNC_sysctl_set_new_value, addr(ctx), addr(page.data()), 4095) == 0);
  CHECK(sysctl.new_value.size() == 4095);
  CHECK(h(BPF_FUNC_sysctl_set_new_value, addr(ctx), addr(value), 9) == 0);
  CHECK(sysctl.new_updated);
  CHECK(std::string(sysctl.new_value.begin(), sysctl.new_value.end()) == "4096 8192");
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_new_value, addr(ctx), addr(buf), 32) == 9);  // reads the replaced value
  CHECK(text(10) == std::string("4096 8192\0", 10));

  // Not a write: get_new_value zeroes the buffer, both -EINVAL.
  ctx[0] = 0;
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_new_value, addr(ctx), addr(buf), 32) == -EINVAL);
  CHECK(text(32) == std::string(32, '\0'));
  CHECK(h(BPF_FUNC_sysctl_set_new_value, addr(ctx), addr(value), 9) == -EINVAL);
  // A write without a value (new_val NULL): get_new_value zeroes, -EINVAL; set_new_value -EINVAL.
  ctx[0] = 1;
  sysctl.new_value.clear();
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_new_value, addr(ctx), addr(buf), 32) == -EINVAL);
  CHECK(text(32) == std::string(32, '\0'));
  CHECK(h(BPF_FUNC_sysctl_set_new_value, addr(ctx), addr(value), 9) == -EINVAL);
  // A failed read of the sysctl (cur_len 0): zeroed, -EINVAL.
  sysctl.current_value.clear();
  fill();
  CHECK(h(BPF_FUNC_sysctl_get_current_value, addr(ctx), addr(buf), 32) == -EINVAL);
  CHECK(text(32) == std::string(32, '\0'));
}

// Since Linux 6.13 bpf_csum_diff folds its result to 16 bits (not complemented) and takes any sizes;
// test_runtime_diff csum_diff compares it with the running kernel on random packets.
TEST_CASE("bpf_csum_diff matches a hand-computed ones'-complement sum, folded to 16 bits") {
  HelperCall h;
  const std::uint32_t to[2] = {0x01020304, 0x05060708};
  CHECK(h(BPF_FUNC_csum_diff, 0, 0, addr(to), 8, 0) == 0x1014);  // 0x06080a0c -> 0x0608 + 0x0a0c
  CHECK(h(BPF_FUNC_csum_diff, 0, 0, addr(to), 8, 1) == 0x1015);
  const std::uint32_t carry[2] = {0xffffffff, 0x00000002};  // 0x1_00000001 folds to 2
  CHECK(h(BPF_FUNC_csum_diff, 0, 0, addr(carry), 8, 0) == 2);
  // Replacing a word by itself nets out to the seed: ones'-complement zero, 0xffff.
  CHECK(h(BPF_FUNC_csum_diff, addr(to), 4, addr(to), 4, 0) == 0xffff);
  // from alone: ~csum(from, ~seed), the seed minus the words: x86's sum is 0xffffffff, complemented 0.
  CHECK(h(BPF_FUNC_csum_diff, addr(to), 4, 0, 0, 0x01020304) == 0);
  // A real IPv4 header (checksum zeroed): complemented it is 0xb861 on the wire.
  const std::uint8_t ip[20] = {0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7};
  const auto csum = static_cast<std::uint16_t>(~h(BPF_FUNC_csum_diff, 0, 0, addr(ip), 20, 0));
  std::uint8_t wire[2];
  std::memcpy(wire, &csum, 2);
  CHECK(wire[0] == 0xb8);
  CHECK(wire[1] == 0x61);
  // Sizes need not be multiples of 4: a 6-byte tail is zero-padded.
  CHECK(h(BPF_FUNC_csum_diff, 0, 0, addr(to), 6, 0) == 0x0b0e);  // 0x0102 + 0x0304 + 0x0708
  std::vector<std::uint32_t> big(129, 0x00010000);
  CHECK(h(BPF_FUNC_csum_diff, 0, 0, addr(big.data()), 516, 0) == 129);
  CHECK(h(BPF_FUNC_csum_diff, 0, 0, 0, 0, 0x12345678) == 0x68ac);  // the seed alone, folded
}

TEST_CASE("bpf_probe_read family: -EFAULT and zeroed dst on bad addresses") {
  HelperCall h;
  const char src[] = "hello";
  char dst[8];
  std::memset(dst, 'x', sizeof dst);
  CHECK(h(BPF_FUNC_probe_read_kernel, addr(dst), 6, addr(src)) == 0);
  CHECK(std::string(dst) == "hello");
  std::memset(dst, 'x', sizeof dst);
  CHECK(h(BPF_FUNC_probe_read, addr(dst), 8, 8) == -EFAULT);
  CHECK(std::all_of(dst, dst + 8, [](char c) { return c == 0; }));
  CHECK(h(BPF_FUNC_probe_read_user_str, addr(dst), 4, addr(src)) == 4);
  CHECK(std::string(dst) == "hel");
  CHECK(h(BPF_FUNC_probe_read_kernel_str, addr(dst), 8, addr(src)) == 6);
  CHECK(h(BPF_FUNC_probe_read_str, addr(dst), 8, 16) == -EFAULT);
  CHECK(h(BPF_FUNC_probe_read_str, addr(dst), 0, addr(src)) == 0);

  SECTION("checked runs read only allowed memory and refuse foreign destinations") {
    h.run.checked = true;
    h.run.regions.push_back(vm::Region{addr(dst), sizeof dst, true, "dst"});
    CHECK(h(BPF_FUNC_probe_read, addr(dst), 6, addr(src)) == -EFAULT);  // src not a region
    h.run.regions.push_back(vm::Region{addr(src), sizeof src, false, "src"});
    CHECK(h(BPF_FUNC_probe_read, addr(dst), 6, addr(src)) == 0);
    char other[8];
    h(BPF_FUNC_probe_read, addr(other), 6, addr(src));
    CHECK(h.run.faulted());
  }
}

TEST_CASE("task and time helpers report the runtime's identity and clocks") {
  HelperCall h;
  h.runtime.task = {.tgid = 100, .pid = 101, .uid = 1000, .gid = 2000, .comm = "a-very-long-command-name"};
  h.runtime.clocks.monotonic_ns = [] { return std::uint64_t{123}; };
  h.runtime.clocks.boot_ns = [] { return std::uint64_t{8'000'000'000}; };
  h.runtime.clocks.hz = 100;
  CHECK(h(BPF_FUNC_get_current_pid_tgid) == (100ll << 32 | 101));
  CHECK(h(BPF_FUNC_get_current_uid_gid) == (2000ll << 32 | 1000));
  CHECK(h(BPF_FUNC_ktime_get_ns) == 123);
  CHECK(h(BPF_FUNC_jiffies64) == 800);
  char comm[16];
  CHECK(h(BPF_FUNC_get_current_comm, addr(comm), sizeof comm) == 0);
  CHECK(std::string(comm) == "a-very-long-com");
  char small[4];
  CHECK(h(BPF_FUNC_get_current_comm, addr(small), sizeof small) == 0);
  CHECK(std::string(small) == "a-v");
  h.state.cpu = 3;
  CHECK(h(BPF_FUNC_get_smp_processor_id) == 3);
  const auto a = h(BPF_FUNC_get_prandom_u32), b = h(BPF_FUNC_get_prandom_u32);
  CHECK(a != b);
  CHECK(a >= 0);
  CHECK(a <= 0xffffffffll);
}

TEST_CASE("map helpers: array and queue semantics through the Map API") {
  HelperCall h;
  auto arr = maps::create_map(maps::MapSpec{.type = maps::MapType::Array, .key_size = 4, .value_size = 8, .max_entries = 4});
  REQUIRE(arr.has_value());
  maps::Map* m = arr->get();
  std::uint32_t key = 2;
  std::uint64_t value = 77;
  CHECK(h(BPF_FUNC_map_update_elem, addr(m), addr(&key), addr(&value), BPF_ANY) == 0);
  const auto p = h(BPF_FUNC_map_lookup_elem, addr(m), addr(&key));
  REQUIRE(p != 0);
  CHECK(*reinterpret_cast<std::uint64_t*>(p) == 77);
  CHECK(h(BPF_FUNC_map_update_elem, addr(m), addr(&key), addr(&value), BPF_NOEXIST) == -EEXIST);
  key = 9;
  CHECK(h(BPF_FUNC_map_lookup_elem, addr(m), addr(&key)) == 0);
  CHECK(h(BPF_FUNC_map_update_elem, addr(m), addr(&key), addr(&value), BPF_ANY) == -E2BIG);
  CHECK(h(BPF_FUNC_map_delete_elem, addr(m), addr(&key)) == -EINVAL);

  auto q = maps::create_map(maps::MapSpec{.type = maps::MapType::Queue, .key_size = 0, .value_size = 4, .max_entries = 2});
  REQUIRE(q.has_value());
  std::uint32_t v = 5, out = 0;
  CHECK(h(BPF_FUNC_map_pop_elem, addr(q->get()), addr(&out)) == -ENOENT);
  CHECK(h(BPF_FUNC_map_push_elem, addr(q->get()), addr(&v), 0) == 0);
  v = 6;
  CHECK(h(BPF_FUNC_map_push_elem, addr(q->get()), addr(&v), 0) == 0);
  CHECK(h(BPF_FUNC_map_push_elem, addr(q->get()), addr(&v), 0) == -E2BIG);
  CHECK(h(BPF_FUNC_map_peek_elem, addr(q->get()), addr(&out)) == 0);
  CHECK(out == 5);
  CHECK(h(BPF_FUNC_map_pop_elem, addr(q->get()), addr(&out)) == 0);
  CHECK(out == 5);

  SECTION("for_each_map_elem visits elements through the callback hook") {
    CHECK(h(BPF_FUNC_for_each_map_elem, addr(m), 0, 0, 0) == 0);
    CHECK(h.run.faulted());  // no engine hook yet
    std::uint64_t sum = 0;
    auto cb = [&](std::uint64_t fn, std::span<const std::uint64_t, 5> a) -> Result<std::uint64_t> {
      CHECK(fn == 0x1234);
      CHECK(a[0] == addr(m));
      CHECK(a[3] == 99);
      sum += *reinterpret_cast<const std::uint64_t*>(a[2]);
      return std::uint64_t{*reinterpret_cast<const std::uint32_t*>(a[1]) == 2 ? 1u : 0u};  // stop at key 2
    };
    h.set_callback(cb);
    CHECK(h(BPF_FUNC_for_each_map_elem, addr(m), 0x1234, 99, 0) == 3);
    CHECK(sum == 77);
    CHECK(h(BPF_FUNC_for_each_map_elem, addr(m), 0x1234, 99, 1) == -EINVAL);
  }
}

TEST_CASE("bpf_loop calls back until non-zero and checks its limits") {
  HelperCall h;
  CHECK(h(BPF_FUNC_loop, 3, 0, 0, 0) == 0);
  CHECK(h.run.helper_fault == "the engine provides no callback hook (not supported yet)");
  std::vector<std::uint64_t> seen;
  auto counting = [&](std::uint64_t, std::span<const std::uint64_t, 5> a) -> Result<std::uint64_t> {
    seen.push_back(a[0]);
    return std::uint64_t{a[0] == 3 ? 1u : 0u};
  };
  h.set_callback(counting);
  CHECK(h(BPF_FUNC_loop, 10, 1, 0, 0) == 4);
  CHECK(seen == std::vector<std::uint64_t>{0, 1, 2, 3});
  CHECK(h(BPF_FUNC_loop, 2, 1, 0, 0) == 2);
  CHECK(h(BPF_FUNC_loop, 2, 1, 0, 1) == -EINVAL);
  CHECK(h(BPF_FUNC_loop, (1 << 23) + 1, 1, 0, 0) == -E2BIG);
  auto failing = [](std::uint64_t, std::span<const std::uint64_t, 5>) -> Result<std::uint64_t> {
    return make_error(Errc::BudgetExceeded, "budget");
  };
  h.set_callback(failing);
  h(BPF_FUNC_loop, 2, 1, 0, 0);
  CHECK(h.run.helper_fault == "callback: budget");
}

TEST_CASE("bpf_tail_call: index, MAX_TAIL_CALL_CNT and empty slots") {
  HelperCall h;
  auto pa = maps::create_map(maps::MapSpec{.type = maps::MapType::ProgArray, .key_size = 4, .value_size = 4, .max_entries = 2});
  REQUIRE(pa.has_value());
  auto* progs = static_cast<maps::ProgArrayMap*>(pa->get());
  int target = 0;
  REQUIRE(progs->set_program(0, maps::ProgramRef{&target, 1}) == 0);
  h(BPF_FUNC_tail_call, 0, addr(progs), 0);
  CHECK(h.run.faulted());  // engine hook missing: no silent fall-through
  h.run.engine_tail_calls = true;
  CHECK(h(BPF_FUNC_tail_call, 0, addr(progs), 5) == -ENOENT);
  CHECK(h.run.tail_calls == 0);
  CHECK(h(BPF_FUNC_tail_call, 0, addr(progs), 1) == -ENOENT);  // empty slot counts
  CHECK(h.run.tail_calls == 1);
  CHECK(h(BPF_FUNC_tail_call, 0, addr(progs), 0) == 0);
  CHECK(h.run.tail_call_target == &target);
  h.run.tail_call_target = nullptr;
  h.run.tail_calls = helpers::kMaxTailCalls;
  CHECK(h(BPF_FUNC_tail_call, 0, addr(progs), 0) == -ENOENT);
  CHECK(h.run.tail_call_target == nullptr);
}

TEST_CASE("bpf_spin_lock / unlock use the map value lock word") {
  HelperCall h;
  alignas(8) std::uint32_t lock = 0;
  h(BPF_FUNC_spin_lock, addr(&lock));
  CHECK(lock == 1);
  h(BPF_FUNC_spin_unlock, addr(&lock));
  CHECK(lock == 0);
}

TEST_CASE("bpf_perf_event_read / _read_value: the kernel's errnos, buf zeroed on error") {
  HelperCall h;
  auto pe = maps::create_map(
      maps::MapSpec{.type = maps::MapType::PerfEventArray, .key_size = 4, .value_size = 4, .max_entries = 2});
  REQUIRE(pe.has_value());
  maps::Map* m = pe->get();
  CHECK(h(BPF_FUNC_perf_event_read, addr(m), 0) == -ENOENT);          // no event in slot 0
  CHECK(h(BPF_FUNC_perf_event_read, addr(m), 5) == -E2BIG);           // index past max_entries
  CHECK(h(BPF_FUNC_perf_event_read, addr(m), 1ull << 40) == -EINVAL); // flag bits outside the index
  bpf_perf_event_value v;
  std::memset(&v, 0xaa, sizeof v);
  CHECK(h(BPF_FUNC_perf_event_read_value, addr(m), 0, addr(&v), sizeof v) == -ENOENT);
  CHECK(v.counter == 0);
  CHECK(v.running == 0);
  std::memset(&v, 0xaa, sizeof v);
  CHECK(h(BPF_FUNC_perf_event_read_value, addr(m), 0, addr(&v), sizeof v - 8) == -EINVAL);
  CHECK(v.counter == 0);
}

TEST_CASE("catalog helpers: the kernel's answer in userspace, outputs zeroed, or a clear not supported yet") {
  HelperCall h;
  std::uint64_t stack[4];
  std::memset(stack, 0xaa, sizeof stack);
  CHECK(h(BPF_FUNC_get_stack, 0, addr(stack), sizeof stack, 0) == -EFAULT);
  CHECK(stack[3] == 0);
  long res = 1234;
  CHECK(h(BPF_FUNC_kallsyms_lookup_name, addr("jiffies"), 8, 0, addr(&res)) == -ENOENT);
  CHECK(res == 0);
  CHECK(h(BPF_FUNC_get_attach_cookie, 0) == 0);
  CHECK(h(BPF_FUNC_sk_lookup_tcp, 0, 0, 0, 0, 0) == 0);  // NULL: a process has no kernel socket to find
  CHECK(h.run.helper_fault.empty());
  h(BPF_FUNC_lwt_seg6_action, 0, 0, 0, 0, 0);  // seg6 state a userspace run does not have
  CHECK(h.run.helper_fault == "bpf_lwt_seg6_action is not supported yet");
}

TEST_CASE("bpf_get_ns_current_pid_tgid answers for the task's own pid namespace only") {
  HelperCall h;
  h.runtime.task = bpfvm::helpers::TaskIdentity::of_this_process();
  h.runtime.task->pid = 7;
  h.runtime.task->tgid = 5;
  REQUIRE(h.runtime.task->pidns_ino != 0);
  bpf_pidns_info info{1, 1};
  CHECK(h(BPF_FUNC_get_ns_current_pid_tgid, h.runtime.task->pidns_dev, h.runtime.task->pidns_ino, addr(&info),
          sizeof info) == 0);
  CHECK(info.pid == 7);
  CHECK(info.tgid == 5);
  CHECK(h(BPF_FUNC_get_ns_current_pid_tgid, h.runtime.task->pidns_dev, h.runtime.task->pidns_ino + 1, addr(&info),
          sizeof info) == -EINVAL);
  CHECK(info.pid == 0);
}

TEST_CASE("bpf_copy_from_user and bpf_trace_vprintk") {
  HelperCall h;
  const char src[] = "user bytes";
  char dst[sizeof src] = {};
  CHECK(h(BPF_FUNC_copy_from_user, addr(dst), sizeof dst, addr(src)) == 0);
  CHECK(std::string(dst) == "user bytes");
  CHECK(h(BPF_FUNC_copy_from_user, addr(dst), sizeof dst, 8) == -EFAULT);
  CHECK(dst[0] == 0);
  const char fmt[] = "a=%d b=%s";
  const std::uint64_t args[] = {42, addr("x")};
  CHECK(h(BPF_FUNC_trace_vprintk, addr(fmt), sizeof fmt, addr(args), sizeof args) == 8);
  REQUIRE(h.trace.size() == 1);
  CHECK(h.trace[0] == "a=42 b=x");
  CHECK(h(BPF_FUNC_trace_vprintk, addr(fmt), sizeof fmt, addr(args), 12) == -EINVAL);
}
