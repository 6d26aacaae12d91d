// ElfFile: a bounds-checked, read-only view of a 64-bit little-endian EM_BPF relocatable object.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"

namespace bpfvm::loader {

/// One section header, with its bytes (empty for SHT_NOBITS) and its name.
struct ElfSection {
  std::uint32_t index = 0;
  std::string_view name;
  std::uint32_t type = 0;   // SHT_*
  std::uint64_t flags = 0;  // SHF_*
  std::uint64_t offset = 0;
  std::uint64_t size = 0;   // sh_size (for SHT_NOBITS the size of the zero-filled image)
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t align = 0;
  std::uint64_t entsize = 0;
  std::span<const std::uint8_t> data;
};

/// One symbol table entry.
struct ElfSymbol {
  std::uint32_t index = 0;
  std::string_view name;
  std::uint8_t bind = 0;  // STB_*
  std::uint8_t type = 0;  // STT_*
  std::uint8_t visibility = 0;
  std::uint16_t shndx = 0;
  std::uint64_t value = 0;
  std::uint64_t size = 0;
};

/// One SHT_REL entry.
struct ElfRel {
  std::uint64_t offset = 0;
  std::uint32_t sym = 0;
  std::uint32_t type = 0;  // R_BPF_*
};

/// Parsed headers of an object. Views point into the caller's bytes, which must outlive the ElfFile.
/// parse() refuses 32-bit, big-endian, non-relocatable and non-BPF files, section data outside the file,
/// overlapping sections, and names or symbols outside their string tables.
class ElfFile {
 public:
  static Result<ElfFile> parse(std::span<const std::uint8_t> bytes);

  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfSymbol>& symbols() const { return symbols_; }
  /// Section by name, or nullptr.
  const ElfSection* find(std::string_view name) const;
  /// Section by index, or nullptr when out of range.
  const ElfSection* section(std::uint32_t index) const {
    return index < sections_.size() ? &sections_[index] : nullptr;
  }
  /// Entries of an SHT_REL section, each checked to name an existing symbol.
  Result<std::vector<ElfRel>> relocations(const ElfSection& rel) const;

 private:
  std::vector<ElfSection> sections_;
  std::vector<ElfSymbol> symbols_;
};

/// "section 'name' (#i)" for messages.
std::string describe_section(const ElfSection& s);

}  // namespace bpfvm::loader
