// Hex text ("aa bb 0x11" or "aabb11") to bytes, as the conformance protocol and the CLI's --mem use
// it, and bytes to lowercase hex, as the CLI prints packets, keys and values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"

namespace bpfvm::tools {

/// Bytes from hex text: pairs of hex digits, optionally separated by whitespace, each group
/// optionally prefixed by 0x. An odd digit count within a group is an error.
Result<std::vector<std::uint8_t>> parse_hex_text(std::string_view text);

/// Lowercase hex of bytes, two digits each, no separators.
std::string hex_bytes(std::span<const std::uint8_t> bytes);

}  // namespace bpfvm::tools
