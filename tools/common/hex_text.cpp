// Hex text parsing and printing for the tools.
#include "tools/common/hex_text.hpp"

#include <cctype>
#include <string>

namespace bpfvm::tools {

namespace {
int digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<std::vector<std::uint8_t>> parse_hex_text(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    auto group = text.substr(i, end - i);
    if (group.size() >= 2 && group[0] == '0' && (group[1] == 'x' || group[1] == 'X')) group.remove_prefix(2);
    if (group.size() % 2 != 0)
      return make_error(Errc::Malformed, "odd number of hex digits in '" + std::string(group) + "' at offset " + std::to_string(i));
    for (std::size_t k = 0; k < group.size(); k += 2) {
      const int hi = digit(group[k]), lo = digit(group[k + 1]);
      if (hi < 0 || lo < 0)
        return make_error(Errc::Malformed, "not a hex digit in '" + std::string(group) + "' at offset " + std::to_string(i + k));
      out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    i = end;
  }
  return out;
}

std::string hex_bytes(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

}  // namespace bpfvm::tools
