// Parsing the JIT listing's text (jit::disassemble_native's format).
#include "tools/bpfvm/native_listing.hpp"

#include <cstdlib>

namespace bpfvm::tools {

namespace {
std::uint32_t sum(const std::vector<NativeInsn>& insns) {
  std::uint32_t n = 0;
  for (const auto& i : insns) n += i.size_bytes;
  return n;
}
std::uint32_t sum(const std::vector<NativeBlock>& blocks) {
  std::uint32_t n = 0;
  for (const auto& b : blocks) n += b.size_bytes();
  return n;
}
std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(' ');
  return std::string(s.substr(b, e - b + 1));
}
}  // namespace

std::uint32_t NativeBlock::size_bytes() const { return sum(insns); }
std::uint32_t NativeListing::entry_bytes() const { return sum(entry); }
std::uint32_t NativeListing::stub_bytes() const { return sum(stubs); }
std::uint32_t NativeListing::body_bytes() const {
  std::uint32_t n = 0;
  for (const auto& [pc, b] : by_pc) n += b.size_bytes();
  return n;
}

NativeListing parse_native_listing(std::string_view listing) {
  NativeListing out;
  NativeBlock* current = nullptr;
  while (!listing.empty()) {
    const auto nl = listing.find('\n');
    const std::string_view line = listing.substr(0, nl);
    listing = nl == std::string_view::npos ? std::string_view{} : listing.substr(nl + 1);
    if (line.empty()) continue;
    const auto semi = line.rfind(" ; ");
    if (semi != std::string_view::npos) {  // an instruction: "text   ; HEX"
      const std::string hex = trim(line.substr(semi + 3));
      if (current == nullptr) current = &out.entry.emplace_back(NativeBlock{"entry", {}});
      current->insns.push_back({trim(line.substr(0, semi)), static_cast<std::uint32_t>(hex.size() / 2)});
      continue;
    }
    if (line.starts_with("pc ")) {
      const auto pc = static_cast<std::uint32_t>(std::strtoul(std::string(line.substr(3)).c_str(), nullptr, 10));
      current = &out.by_pc[pc];
      current->title = std::string(line);
    } else if (line.starts_with("stub")) {
      current = &out.stubs.emplace_back(NativeBlock{std::string(line), {}});
    } else if (line.starts_with("entry")) {
      current = &out.entry.emplace_back(NativeBlock{std::string(line), {}});
    }
    // anything else is a label ("L3:") and stays in the current block
  }
  return out;
}

}  // namespace bpfvm::tools
