// printk-format validation and rendering with the kernel's rules (kernel/bpf/helpers.c).
#include "helpers/bprintf.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>

#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

void append_printf(std::string& out, const std::string& spec, auto value) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, spec.c_str(), value);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

std::string ip_string(const std::uint8_t* b, bool v6, bool padded) {
  char buf[64];
  if (!v6) {
    std::snprintf(buf, sizeof buf, padded ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return buf;
  }
  std::string s;
  for (int i = 0; i < 16; i += 2) {
    // %pI6: eight colon-separated 16-bit groups; %pi6: 32 hex digits without colons.
    std::snprintf(buf, sizeof buf, padded ? "%02x%02x" : (i ? ":%02x%02x" : "%02x%02x"), b[i], b[i + 1]);
    s += buf;
  }
  return s;
}

}  // namespace

int bprintf(vm::RunContext* run, std::string_view fmt, std::span<const std::uint64_t> args, std::string& out) {
  out.clear();
  std::size_t spec_no = 0;
  auto at = [&](std::size_t i) -> char { return i < fmt.size() ? fmt[i] : '\0'; };
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    const auto c = static_cast<unsigned char>(fmt[i]);
    if ((!std::isprint(c) && !std::isspace(c)) || c > 127) return -EINVAL;
    if (c != '%') {
      out += fmt[i];
      continue;
    }
    if (at(i + 1) == '%') {
      out += '%';
      ++i;
      continue;
    }
    if (spec_no >= args.size()) return -EINVAL;
    const std::uint64_t arg = args[spec_no++];
    std::string spec = "%";
    ++i;
    while (at(i) == '0' || at(i) == '+' || at(i) == '-' || at(i) == ' ') spec += fmt[i++];
    if (at(i) >= '1' && at(i) <= '9') {
      spec += fmt[i++];
      while (at(i) >= '0' && at(i) <= '9') spec += fmt[i++];
    }
    auto append_str = [&](std::uint64_t p) {
      std::string tmp(kMaxBprintfBuf, '\0');
      const long n = probe_copy_str(run, tmp.data(), p, tmp.size());
      tmp.resize(n > 0 ? static_cast<std::size_t>(n - 1) : 0);
      append_printf(out, spec + "s", tmp.c_str());
    };
    const char k = at(i);
    if (k == 'p') {
      const char m = at(i + 1);
      if ((m == 'k' || m == 'u') && at(i + 2) == 's') {
        i += 2;
        append_str(arg);
        continue;
      }
      const auto mc = static_cast<unsigned char>(m);
      if (m == 0 || std::isspace(mc) || std::ispunct(mc) || m == 'K' || m == 'x' || m == 's' || m == 'S' || m == 'B') {
        const bool modifier = m == 'K' || m == 'x' || m == 's' || m == 'S' || m == 'B';
        if (modifier) ++i;
        char buf[24];
        std::snprintf(buf, sizeof buf, (m == 's' || m == 'S' || m == 'B') ? "0x%llx" : "%016llx",
                      static_cast<unsigned long long>(arg));
        append_printf(out, spec + "s", buf);
        continue;
      }
      if ((m != 'i' && m != 'I') || (at(i + 2) != '4' && at(i + 2) != '6')) return -EINVAL;
      const bool v6 = at(i + 2) == '6';
      std::uint8_t ip[16] = {};
      if (!probe_copy(run, ip, arg, v6 ? 16 : 4)) std::fill(std::begin(ip), std::end(ip), 0);
      append_printf(out, spec + "s", ip_string(ip, v6, m == 'i').c_str());
      i += 2;
      continue;
    }
    if (k == 's') {
      append_str(arg);
      continue;
    }
    if (k == 'c') {
      append_printf(out, spec + "c", static_cast<int>(static_cast<unsigned char>(arg)));
      continue;
    }
    int longs = 0;
    while (at(i) == 'l' && longs < 2) {
      ++longs;
      ++i;
    }
    const char conv = at(i);
    if (conv != 'i' && conv != 'd' && conv != 'u' && conv != 'x' && conv != 'X') return -EINVAL;
    const bool is_signed = conv == 'i' || conv == 'd';
    if (longs == 0) {
      if (is_signed) append_printf(out, spec + conv, static_cast<int>(static_cast<std::uint32_t>(arg)));
      else append_printf(out, spec + conv, static_cast<unsigned>(arg));
    } else {  // long and long long are both 64 bits on the kernel's 64-bit targets
      if (is_signed) append_printf(out, spec + "ll" + conv, static_cast<long long>(arg));
      else append_printf(out, spec + "ll" + conv, static_cast<unsigned long long>(arg));
    }
  }
  return 0;
}

}  // namespace bpfvm::helpers::detail
