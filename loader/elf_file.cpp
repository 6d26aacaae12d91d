// ElfFile: parsing and validating the headers, section table and symbol table of a BPF object.
#include "loader/elf_file.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "loader/byte_reader.hpp"

namespace bpfvm::loader {

namespace {

constexpr std::size_t kEhdrBytes = 64, kShdrBytes = 64, kSymBytes = 24, kRelBytes = 16;
// More sections than any compiler emits for one BPF object; bounds the work a hostile header can ask for.
constexpr std::uint32_t kMaxSections = 1u << 16;

Error malformed(std::string reason) { return make_error(Errc::Malformed, "ELF: " + std::move(reason)); }

// A NUL-terminated string at `off` inside `table`, or nullopt.
bool string_at(std::span<const std::uint8_t> table, std::uint64_t off, std::string_view& out) {
  if (off >= table.size()) return false;
  const auto* begin = reinterpret_cast<const char*>(table.data()) + off;
  const void* nul = std::memchr(begin, 0, table.size() - off);
  if (!nul) return false;
  out = std::string_view(begin, static_cast<const char*>(nul) - begin);
  return true;
}

}  // namespace

std::string describe_section(const ElfSection& s) {
  return "section '" + std::string(s.name) + "' (#" + std::to_string(s.index) + ")";
}

Result<ElfFile> ElfFile::parse(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kEhdrBytes)
    return malformed("file of " + std::to_string(bytes.size()) + " bytes is shorter than an ELF header");
  if (std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) return malformed("bad magic: not an ELF file");
  if (bytes[EI_CLASS] != ELFCLASS64)
    return make_error(Errc::Unsupported, "ELF: 32-bit ELF is not supported (BPF objects are ELFCLASS64)");
  if (bytes[EI_DATA] != ELFDATA2LSB)
    return make_error(Errc::Unsupported, "ELF: big-endian ELF is not supported (bpfvm is little-endian)");
  ByteReader r(bytes);
  const auto e_type = r.u16(16), e_machine = r.u16(18);
  if (e_type != ET_REL) return malformed("e_type " + std::to_string(e_type) + " is not ET_REL (1)");
  // libbpf accepts e_machine 0 from old toolchains.
  if (e_machine != EM_BPF && e_machine != 0)
    return malformed("wrong machine " + std::to_string(e_machine) + " (expected EM_BPF 247)");
  const std::uint64_t shoff = r.u64(40);
  const auto shentsize = r.u16(58);
  std::uint32_t shnum = r.u16(60);
  std::uint32_t shstrndx = r.u16(62);
  if (shoff == 0) return malformed("no section header table");
  if (shentsize != kShdrBytes) return malformed("e_shentsize " + std::to_string(shentsize) + " is not 64");
  if (!r.fits(shoff, kShdrBytes)) return malformed("section header table at offset " + std::to_string(shoff) + " is outside the file");
  // Extended numbering: the real counts live in section 0.
  if (shnum == 0) {
    const auto big = r.u64(shoff + 32);
    if (big > kMaxSections) return malformed("too many sections (" + std::to_string(big) + ")");
    shnum = static_cast<std::uint32_t>(big);
  }
  if (shstrndx == SHN_XINDEX) shstrndx = r.u32(shoff + 40);
  if (shnum > kMaxSections) return malformed("too many sections (" + std::to_string(shnum) + ")");
  if (!r.fits(shoff, std::uint64_t(shnum) * kShdrBytes))
    return malformed("section header table (" + std::to_string(shnum) + " entries at offset " +
                     std::to_string(shoff) + ") is truncated");
  if (shstrndx >= shnum) return malformed("e_shstrndx " + std::to_string(shstrndx) + " is out of range");

  ElfFile f;
  f.sections_.resize(shnum);
  struct Extent { std::uint64_t begin, end; std::uint32_t index; };
  std::vector<Extent> extents;
  extents.push_back({0, kEhdrBytes, kMaxSections});
  extents.push_back({shoff, shoff + std::uint64_t(shnum) * kShdrBytes, kMaxSections});
  std::vector<std::uint32_t> name_offsets(shnum);
  for (std::uint32_t i = 0; i < shnum; ++i) {
    const std::uint64_t h = shoff + std::uint64_t(i) * kShdrBytes;
    auto& s = f.sections_[i];
    s.index = i;
    name_offsets[i] = r.u32(h);
    s.type = r.u32(h + 4);
    s.flags = r.u64(h + 8);
    s.offset = r.u64(h + 24);
    s.size = r.u64(h + 32);
    s.link = r.u32(h + 40);
    s.info = r.u32(h + 44);
    s.align = r.u64(h + 48);
    s.entsize = r.u64(h + 56);
    if (i == 0 || s.type == SHT_NOBITS || s.type == SHT_NULL) continue;
    if (!r.fits(s.offset, s.size))
      return malformed("section #" + std::to_string(i) + ": data [" + std::to_string(s.offset) + ", +" +
                       std::to_string(s.size) + ") is outside the file of " + std::to_string(bytes.size()) + " bytes");
    s.data = bytes.subspan(s.offset, s.size);
    if (s.size) extents.push_back({s.offset, s.offset + s.size, i});
  }
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  for (std::size_t k = 1; k < extents.size(); ++k)
    if (extents[k].begin < extents[k - 1].end) {
      auto who = [](const Extent& e) {
        return e.index == kMaxSections ? std::string("ELF headers") : "section #" + std::to_string(e.index);
      };
      return malformed(who(extents[k]) + " at offset " + std::to_string(extents[k].begin) + " overlaps " +
                       who(extents[k - 1]));
    }
  const auto& shstr = f.sections_[shstrndx];
  if (shstr.type != SHT_STRTAB) return malformed("section name table #" + std::to_string(shstrndx) + " is not SHT_STRTAB");
  for (std::uint32_t i = 1; i < shnum; ++i)
    if (!string_at(shstr.data, name_offsets[i], f.sections_[i].name))
      return malformed("section #" + std::to_string(i) + ": name offset " + std::to_string(name_offsets[i]) +
                       " is outside the section name table");

  const ElfSection* symtab = nullptr;
  for (const auto& s : f.sections_)
    if (s.type == SHT_SYMTAB) {
      if (symtab) return malformed("more than one symbol table");
      symtab = &s;
    }
  if (!symtab) return malformed("no symbol table (SHT_SYMTAB)");
  if (symtab->entsize != kSymBytes || symtab->size % kSymBytes != 0)
    return malformed(describe_section(*symtab) + ": entry size " + std::to_string(symtab->entsize) +
                     " / size " + std::to_string(symtab->size) + " do not fit 24-byte Elf64_Sym");
  const auto* strtab = f.section(symtab->link);
  if (!strtab || strtab->type != SHT_STRTAB)
    return malformed(describe_section(*symtab) + ": sh_link " + std::to_string(symtab->link) + " is not a string table");
  const std::size_t nsyms = symtab->size / kSymBytes;
  f.symbols_.resize(nsyms);
  ByteReader sr(symtab->data);
  for (std::size_t i = 0; i < nsyms; ++i) {
    const std::uint64_t o = i * kSymBytes;
    auto& sym = f.symbols_[i];
    sym.index = static_cast<std::uint32_t>(i);
    const auto name_off = sr.u32(o);
    const auto info = sr.u8(o + 4);
    sym.bind = static_cast<std::uint8_t>(info >> 4);
    sym.type = static_cast<std::uint8_t>(info & 0xf);
    sym.visibility = static_cast<std::uint8_t>(sr.u8(o + 5) & 3);
    sym.shndx = sr.u16(o + 6);
    sym.value = sr.u64(o + 8);
    sym.size = sr.u64(o + 16);
    if (!string_at(strtab->data, name_off, sym.name))
      return malformed("symbol #" + std::to_string(i) + ": name offset " + std::to_string(name_off) +
                       " is outside " + describe_section(*strtab));
    if (sym.type == STT_SECTION && sym.name.empty() && sym.shndx < shnum) sym.name = f.sections_[sym.shndx].name;
  }
  return f;
}

const ElfSection* ElfFile::find(std::string_view name) const {
  for (const auto& s : sections_)
    if (s.index != 0 && s.name == name) return &s;
  return nullptr;
}

Result<std::vector<ElfRel>> ElfFile::relocations(const ElfSection& rel) const {
  if (rel.type != SHT_REL) return malformed(describe_section(rel) + " is not SHT_REL");
  if (rel.entsize != kRelBytes || rel.size % kRelBytes != 0)
    return malformed(describe_section(rel) + ": size " + std::to_string(rel.size) + " / entry size " +
                     std::to_string(rel.entsize) + " do not fit 16-byte Elf64_Rel");
  std::vector<ElfRel> out(rel.size / kRelBytes);
  ByteReader r(rel.data);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].offset = r.u64(i * kRelBytes);
    const auto info = r.u64(i * kRelBytes + 8);
    out[i].sym = static_cast<std::uint32_t>(info >> 32);
    out[i].type = static_cast<std::uint32_t>(info);
    if (out[i].sym >= symbols_.size())
      return malformed(describe_section(rel) + ": relocation #" + std::to_string(i) + " names symbol " +
                       std::to_string(out[i].sym) + " of " + std::to_string(symbols_.size()));
  }
  return out;
}

}  // namespace bpfvm::loader
