// BtfExt: the .BTF.ext section — func info, line info and CO-RE relocation records per ELF section.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "loader/btf.hpp"

namespace bpfvm::loader {

/// bpf_func_info: insn_off is in bytes from the start of the ELF section, as clang emits it.
struct BtfExtFuncInfo {
  std::uint32_t insn_off_bytes = 0;
  std::uint32_t type_id = 0;
};
/// bpf_line_info: line = line_col >> 10, column = line_col & 0x3ff.
struct BtfExtLineInfo {
  std::uint32_t insn_off_bytes = 0;
  std::uint32_t file_name_off = 0;
  std::uint32_t line_off = 0;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};
/// bpf_core_relo; kind is enum bpf_core_relo_kind.
struct BtfExtCoreRelo {
  std::uint32_t insn_off_bytes = 0;
  std::uint32_t type_id = 0;
  std::uint32_t access_str_off = 0;
  std::uint32_t kind = 0;
};

template <class Record>
struct BtfExtSection {
  std::string_view section;  // ELF section name, from the BTF string table
  std::vector<Record> records;
};

struct BtfExt {
  std::vector<BtfExtSection<BtfExtFuncInfo>> func_info;
  std::vector<BtfExtSection<BtfExtLineInfo>> line_info;
  std::vector<BtfExtSection<BtfExtCoreRelo>> core_relos;

  /// Parses and checks every header, record size, count and string/type reference against `btf`
  /// (whose strings the returned views point into).
  static Result<BtfExt> parse(std::span<const std::uint8_t> bytes, const Btf& btf);
};

}  // namespace bpfvm::loader
