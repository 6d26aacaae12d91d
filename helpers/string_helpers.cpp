// bpf_strtol, bpf_strtoul, bpf_strncmp with the kernel's parsing rules (kernel/bpf/helpers.c).
#include <linux/bpf.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::uint64_t kBaseMask = 0x1f;  // BPF_STRTOX_BASE_MASK

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return 99;
}

// The kernel's isspace (lib/ctype.c, Latin-1): \t \n \v \f \r, ' ' and 0xa0 (no-break space), in
// any locale; the C library's isspace leaves 0xa0 out.
bool kernel_isspace(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0;
}

// __bpf_strtoull: leading spaces, one '-', radix prefix (base 0: 0x -> 16, 0 -> 8, else 10; base
// 16 also skips 0x), at most 63 characters parsed. Returns bytes consumed, -EINVAL or -ERANGE.
long strtoull(const char* buf, std::size_t len, std::uint64_t flags, std::uint64_t& res, bool& negative) {
  unsigned base = static_cast<unsigned>(flags & kBaseMask);
  if (len == 0) return -EINVAL;
  if (base != 0 && base != 8 && base != 10 && base != 16) return -EINVAL;
  if (flags & ~kBaseMask) return -EINVAL;
  std::size_t cur = 0;
  while (cur < len && kernel_isspace(buf[cur])) ++cur;
  negative = cur < len && buf[cur] == '-';
  if (negative) ++cur;
  const std::size_t consumed = cur;
  std::size_t left = len - cur;
  if (left == 0) return -EINVAL;
  char str[64] = {};
  left = std::min(left, sizeof str - 1);
  std::memcpy(str, buf + cur, left);
  const char* s = str;
  if (base == 0) {
    if (s[0] == '0') base = (std::tolower(static_cast<unsigned char>(s[1])) == 'x' && std::isxdigit(static_cast<unsigned char>(s[2]))) ? 16 : 8;
    else base = 10;
  }
  if (base == 16 && s[0] == '0' && std::tolower(static_cast<unsigned char>(s[1])) == 'x') s += 2;
  std::uint64_t value = 0;
  bool overflow = false;
  std::size_t digits = 0;
  for (;; ++digits) {
    const int d = digit_value(s[digits]);
    if (d >= static_cast<int>(base)) break;
    if (value > (UINT64_MAX - static_cast<unsigned>(d)) / base) overflow = true;
    value = value * base + static_cast<unsigned>(d);
  }
  if (overflow) return -ERANGE;
  if (digits == 0) return -EINVAL;
  res = value;
  return static_cast<long>(consumed + static_cast<std::size_t>(s + digits - str));
}

std::uint64_t strtol(std::uint64_t buf, std::uint64_t len, std::uint64_t flags, std::uint64_t res, std::uint64_t,
                     vm::RunContext* run) {
  if (!guest_ok(run, buf, len, false, "bpf_strtol buf") || !guest_ok(run, res, 8, true, "bpf_strtol res")) return 0;
  std::memset(ptr(res), 0, 8);  // the kernel zeroes *res first: an error leaves 0 there
  std::uint64_t v = 0;
  bool negative = false;
  const long err = strtoull(reinterpret_cast<const char*>(ptr(buf)), len, flags, v, negative);
  if (err < 0) return ret(err);
  if (negative) {
    if (static_cast<std::int64_t>(0 - v) > 0) return ret(-ERANGE);
    v = 0 - v;
  } else if (static_cast<std::int64_t>(v) < 0) {
    return ret(-ERANGE);
  }
  std::memcpy(ptr(res), &v, 8);
  return ret(err);
}

std::uint64_t strtoul(std::uint64_t buf, std::uint64_t len, std::uint64_t flags, std::uint64_t res, std::uint64_t,
                      vm::RunContext* run) {
  if (!guest_ok(run, buf, len, false, "bpf_strtoul buf") || !guest_ok(run, res, 8, true, "bpf_strtoul res")) return 0;
  std::memset(ptr(res), 0, 8);  // the kernel zeroes *res first: an error leaves 0 there
  std::uint64_t v = 0;
  bool negative = false;
  const long err = strtoull(reinterpret_cast<const char*>(ptr(buf)), len, flags, v, negative);
  if (err < 0) return ret(err);
  if (negative) return ret(-EINVAL);
  std::memcpy(ptr(res), &v, 8);
  return ret(err);
}

// bpf_strncmp(s1, s1_sz, s2): strncmp(s1, s2, s1_sz) with the result clamped to -1/0/1 as the kernel's
// strncmp returns the byte difference sign only.
std::uint64_t strncmp_helper(std::uint64_t s1, std::uint64_t s1_sz, std::uint64_t s2, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  if (!guest_ok(run, s1, s1_sz, false, "bpf_strncmp s1")) return 0;
  std::string other(static_cast<std::size_t>(s1_sz) + 1, '\0');
  if (probe_copy_str(run, other.data(), s2, other.size()) < 0) return fault(run, "s2 is not readable");
  const int r = std::strncmp(reinterpret_cast<const char*>(ptr(s1)), other.c_str(), s1_sz);
  return ret(r < 0 ? -1 : r > 0 ? 1 : 0);
}

}  // namespace

void add_string_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> args{ArgType::PtrToMem, ArgType::ConstSize, ArgType::Anything, ArgType::PtrToLong};
  reg.add(entry(BPF_FUNC_strtol, "bpf_strtol", strtol, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_strtoul, "bpf_strtoul", strtoul, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_strncmp, "bpf_strncmp", strncmp_helper, rt, RetType::Integer,
                {ArgType::PtrToMem, ArgType::ConstSize, ArgType::PtrToConstStr}));
}

}  // namespace bpfvm::helpers::detail
