// Constant-string helper arguments and bpf_snprintf's load-time format check.
#include "verifier/const_str.hpp"

#include <cctype>
#include <cstring>

namespace bpfvm::verifier {
const char* const_str_problem(const MapInfo& map, const RegValue& v, std::string_view& str) {
  // bpf_map_is_rdonly: BPF_F_RDONLY_PROG and frozen; only arrays give a direct value address.
  const auto* value = map.readonly_value();
  if (value == nullptr) return "does not point to a readonly map";
  if (!v.value.is_const()) return "is not a constant address";
  const auto& bytes = *value;
  const std::uint64_t off = v.value.const_value();
  if (off >= bytes.size()) return "points outside the map value";
  const auto* start = reinterpret_cast<const char*>(bytes.data()) + off;
  const void* nul = std::memchr(start, 0, bytes.size() - off);
  if (nul == nullptr) return "string is not zero-terminated";
  str = std::string_view(start, static_cast<std::size_t>(static_cast<const char*>(nul) - start));
  return nullptr;
}

bool printk_format_ok(std::string_view fmt, std::uint64_t args) {
  std::uint64_t specs = 0;
  auto at = [&](std::size_t i) { return i < fmt.size() ? fmt[i] : '\0'; };
  auto is = [&](std::size_t i, std::string_view set) { return at(i) != '\0' && set.find(at(i)) != std::string_view::npos; };
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    const auto c = static_cast<unsigned char>(fmt[i]);
    if (c > 127 || (!std::isprint(c) && !std::isspace(c))) return false;
    if (c != '%') continue;
    if (at(i + 1) == '%') {
      ++i;
      continue;
    }
    if (specs++ >= args) return false;
    ++i;
    while (is(i, "0+- ")) ++i;
    while (is(i, "0123456789")) ++i;
    if (at(i) == 'p') {
      const auto m = static_cast<unsigned char>(at(i + 1));
      if (is(i + 1, "ku") && at(i + 2) == 's') i += 2;
      else if (is(i + 1, "KxsSB")) ++i;
      else if (is(i + 1, "iI") && is(i + 2, "46")) i += 2;
      else if (m != 0 && !std::isspace(m) && !std::ispunct(m)) return false;
      continue;
    }
    if (at(i) == 's' || at(i) == 'c') continue;
    if (at(i) == 'l') ++i;
    if (at(i) == 'l') ++i;
    if (!is(i, "iduxX")) return false;
  }
  return true;
}

}  // namespace bpfvm::verifier
