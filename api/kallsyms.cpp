// Kernel symbol addresses from /proc/kallsyms (libbpf's libbpf_kallsyms_parse).
#include "api/kallsyms.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace bpfvm {

std::optional<std::uint64_t> kallsyms_address(const std::string& name) {
  std::ifstream in("/proc/kallsyms");
  if (!in) return std::nullopt;
  std::optional<std::uint64_t> found;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(name) == std::string::npos) continue;  // cheap filter over ~200,000 lines
    std::istringstream fields(line);
    std::string address, type, symbol;
    if (!(fields >> address >> type >> symbol) || symbol != name) continue;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(address.data(), address.data() + address.size(), value, 16);
    if (ec != std::errc{} || end != address.data() + address.size()) continue;
    if (found && *found != value) return std::nullopt;
    found = value;
  }
  return found;
}

}  // namespace bpfvm
