// ElfFile: a read-only view of a 64-bit EM_BPF relocatable object in the host's byte order, read through
// libelf's gelf API (as libbpf reads objects), with bpfvm's own bounds checks on everything libelf hands back.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"

// libelf's handle types (<libelf.h>), kept out of this header's includers.
struct Elf;
struct Elf_Scn;

namespace bpfvm::loader {

/// One section header, with its bytes and its name. `data` is empty for SHT_NOBITS and for DWARF
/// (.debug_*), which bpfvm never reads; every other compressed section is inflated.
struct ElfSection {
  std::uint32_t index = 0;
  std::string_view name;
  std::uint32_t type = 0;   // SHT_*
  std::uint64_t flags = 0;  // SHF_* as in the file (SHF_COMPRESSED stays set on an inflated section)
  std::uint64_t offset = 0;
  std::uint64_t size = 0;   // sh_size (for SHT_NOBITS the size of the zero-filled image); for an inflated
                            // section its inflated size; the size of `data` where that is read
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t align = 0;
  std::uint64_t entsize = 0;
  std::span<const std::uint8_t> data;

  /// SHT_REL or SHT_RELA: relocations against section `info`.
  bool holds_relocations() const;
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

/// One SHT_REL or SHT_RELA entry. SHT_REL keeps the addend in the relocated field itself (what clang
/// emits); SHT_RELA carries it here and the field's contents do not count.
struct ElfRel {
  std::uint64_t offset = 0;
  std::uint32_t sym = 0;
  std::uint32_t type = 0;  // R_BPF_*
  bool explicit_addend = false;  // from SHT_RELA
  std::int64_t addend = 0;       // r_addend when explicit_addend
};

/// Parsed headers of an object. parse() copies the bytes (libelf may write to the image it reads, e.g. when
/// it inflates a section), so the views point into the ElfFile and stay valid while it lives.
/// parse() refuses 32-bit, opposite-byte-order, non-relocatable and non-BPF files, section data outside the
/// file, overlapping sections, names or symbols outside their string tables, and compressed sections that
/// are not zlib or inflate to more than kMaxInflatedBytes.
class ElfFile {
 public:
  /// The kernel's BTF_MAX_SIZE: .BTF and .BTF.ext are what bpfvm reads from compressed sections.
  static constexpr std::uint64_t kMaxInflatedBytes = 16u << 20;

  static Result<ElfFile> parse(std::span<const std::uint8_t> bytes);

  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfSymbol>& symbols() const { return symbols_; }
  /// Section by name, or nullptr.
  const ElfSection* find(std::string_view name) const;
  /// Section by index, or nullptr when out of range.
  const ElfSection* section(std::uint32_t index) const {
    return index < sections_.size() ? &sections_[index] : nullptr;
  }
  /// Entries of an SHT_REL or SHT_RELA section, each checked to name an existing symbol.
  Result<std::vector<ElfRel>> relocations(const ElfSection& rel) const;

 private:
  struct ElfEnd {
    void operator()(Elf* elf) const;
  };
  std::vector<std::uint8_t> image_;  // declared before elf_: libelf's handle goes first
  std::unique_ptr<Elf, ElfEnd> elf_;
  std::vector<Elf_Scn*> scns_;  // libelf's section handle per index
  std::vector<ElfSection> sections_;
  std::vector<ElfSymbol> symbols_;
};

/// "section 'name' (#i)" for messages.
std::string describe_section(const ElfSection& s);

}  // namespace bpfvm::loader
