// ElfFile: reading the headers, sections, symbols and relocations of a BPF object through libelf's gelf
// API, and checking every offset, size, index and string libelf hands back before it is used.
#include "loader/elf_file.hpp"

#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>

namespace bpfvm::loader {

namespace {

constexpr std::size_t kEhdrBytes = 64, kShdrBytes = 64, kSymBytes = 24, kRelBytes = 16, kRelaBytes = 24;
// More sections than any compiler emits for one BPF object; bounds the work a hostile header can ask for.
constexpr std::uint32_t kMaxSections = 1u << 16;
constexpr unsigned char kHostData = std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;

Error malformed(std::string reason) { return make_error(Errc::Malformed, "ELF: " + std::move(reason)); }

std::string libelf_error() {
  const char* msg = elf_errmsg(-1);
  return std::string("libelf: ") + (msg ? msg : "unknown error");
}

// libelf must be told the ELF version the caller speaks before any other call; once per process.
bool libelf_ready() {
  static const bool ready = elf_version(EV_CURRENT) != EV_NONE;
  return ready;
}

// A NUL-terminated string at `off` inside `table`, or false.
bool string_at(std::span<const std::uint8_t> table, std::uint64_t off, std::string_view& out) {
  if (off >= table.size()) return false;
  const auto* begin = reinterpret_cast<const char*>(table.data()) + off;
  const void* nul = std::memchr(begin, 0, table.size() - off);
  if (!nul) return false;
  out = std::string_view(begin, static_cast<const char*>(nul) - begin);
  return true;
}

bool fits(std::uint64_t file_size, std::uint64_t off, std::uint64_t len) { return off <= file_size && len <= file_size - off; }

std::string section_no(std::uint32_t i) { return "section #" + std::to_string(i); }

// The helpers below name no section in their errors: load_data() puts the section in front, so no
// message is built for the sections that pass.
Error problem(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

// The section's bytes from libelf, which must be the `expected` bytes the header promised.
Result<std::span<const std::uint8_t>> section_bytes(Elf_Scn* scn, std::uint64_t expected) {
  Elf_Data* d = elf_getdata(scn, nullptr);
  if (!d) return problem(libelf_error());
  if (d->d_size != expected || (expected && !d->d_buf))
    return problem("libelf returned " + std::to_string(d->d_size) + " bytes, the header says " + std::to_string(expected));
  return std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(d->d_buf), d->d_size);
}

// Symbols and relocations come in fixed-size entries: checked before libelf converts them, since it
// refuses a table with a partial entry without saying why.
Result<void> check_entries(const ElfSection& s) {
  std::size_t bytes = 0;
  const char* entry = nullptr;
  switch (s.type) {
    case SHT_SYMTAB: bytes = kSymBytes, entry = "Elf64_Sym"; break;
    case SHT_REL: bytes = kRelBytes, entry = "Elf64_Rel"; break;
    case SHT_RELA: bytes = kRelaBytes, entry = "Elf64_Rela"; break;
    default: return {};
  }
  if (s.entsize != bytes || s.size % bytes != 0)
    return problem("size " + std::to_string(s.size) + " / entry size " + std::to_string(s.entsize) + " do not fit " +
                     std::to_string(bytes) + "-byte " + entry);
  if (s.size / bytes > INT_MAX) return problem("more than INT_MAX entries");  // gelf_get* take an int index
  return {};
}

// Inflates a SHF_COMPRESSED section in place (libelf's elf_compress), after checking its Elf64_Chdr:
// zlib only, and at most ElfFile::kMaxInflatedBytes, so a small file cannot ask for much memory.
Result<std::uint64_t> inflate(Elf_Scn* scn) {
  GElf_Chdr chdr;
  if (!gelf_getchdr(scn, &chdr)) return problem("compression header: " + libelf_error());
  if (chdr.ch_type != ELFCOMPRESS_ZLIB)
    return make_error(Errc::Unsupported, "compression type " + std::to_string(chdr.ch_type) + " is not supported (only zlib, ELFCOMPRESS_ZLIB 1)");
  if (chdr.ch_size > ElfFile::kMaxInflatedBytes)
    return problem("inflates to " + std::to_string(chdr.ch_size) + " bytes, more than the " + std::to_string(ElfFile::kMaxInflatedBytes) +
                   " allowed (the kernel's BTF_MAX_SIZE)");
  if (elf_compress(scn, 0, 0) < 0) return problem("cannot inflate: " + libelf_error());
  return chdr.ch_size;
}

}  // namespace

void ElfFile::ElfEnd::operator()(Elf* elf) const { elf_end(elf); }

bool ElfSection::holds_relocations() const { return type == SHT_REL || type == SHT_RELA; }

std::string describe_section(const ElfSection& s) {
  return "section '" + std::string(s.name) + "' (#" + std::to_string(s.index) + ")";
}

Result<ElfFile> ElfFile::parse(std::span<const std::uint8_t> bytes) {
  // The identification bytes first: libelf would take an opposite-byte-order object and convert its
  // headers, but the instructions, BTF and data would still be in the other order.
  if (bytes.size() < kEhdrBytes)
    return malformed("file of " + std::to_string(bytes.size()) + " bytes is shorter than an ELF header");
  if (std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) return malformed("bad magic: not an ELF file");
  if (bytes[EI_CLASS] != ELFCLASS64)
    return make_error(Errc::Unsupported, "ELF: 32-bit ELF is not supported (BPF objects are ELFCLASS64)");
  if (bytes[EI_DATA] != kHostData) {
    // The kernel runs BPF in the host's byte order only, and libbpf refuses to load an object of the
    // other order ("endianness mismatch"; since 1.5 it opens one for inspection but will not load it).
    const bool big = bytes[EI_DATA] == ELFDATA2MSB;
    if (!big && bytes[EI_DATA] != ELFDATA2LSB) return malformed("EI_DATA " + std::to_string(bytes[EI_DATA]) + " is neither little- nor big-endian");
    return make_error(Errc::Unsupported, std::string("ELF: ") + (big ? "big-endian object (clang -target bpfeb)" : "little-endian object (clang -target bpfel)") +
                                             " on a " + (big ? "little" : "big") + "-endian host: BPF runs in the host's byte order, and libbpf " +
                                             "refuses to load such objects too; rebuild with -target " + (big ? "bpfel" : "bpfeb"));
  }
  if (!libelf_ready()) return make_error(Errc::Internal, "ELF: " + libelf_error());

  ElfFile f;
  f.image_.assign(bytes.begin(), bytes.end());
  const std::uint64_t file_size = f.image_.size();
  f.elf_.reset(elf_memory(reinterpret_cast<char*>(f.image_.data()), f.image_.size()));
  if (!f.elf_) return malformed(libelf_error());
  Elf* elf = f.elf_.get();
  if (elf_kind(elf) != ELF_K_ELF) return malformed("not an ELF object");
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf, &ehdr)) return malformed("ELF header: " + libelf_error());
  if (ehdr.e_type != ET_REL) return malformed("e_type " + std::to_string(ehdr.e_type) + " is not ET_REL (1)");
  // libbpf accepts e_machine 0 from old toolchains.
  if (ehdr.e_machine != EM_BPF && ehdr.e_machine != 0)
    return malformed("wrong machine " + std::to_string(ehdr.e_machine) + " (expected EM_BPF 247)");
  if (ehdr.e_shoff == 0) return malformed("no section header table");
  if (ehdr.e_shentsize != kShdrBytes) return malformed("e_shentsize " + std::to_string(ehdr.e_shentsize) + " is not 64");
  if (!fits(file_size, ehdr.e_shoff, kShdrBytes))
    return malformed("section header table at offset " + std::to_string(ehdr.e_shoff) + " is outside the file");
  // libelf reads extended numbering (counts in section 0) and reports 0 sections when the table is cut.
  std::size_t shnum = 0, shstrndx = 0;
  if (elf_getshdrnum(elf, &shnum) != 0) return malformed("section count: " + libelf_error());
  if (shnum > kMaxSections) return malformed("too many sections (" + std::to_string(shnum) + ")");
  if ((ehdr.e_shnum != 0 && shnum != ehdr.e_shnum) || !fits(file_size, ehdr.e_shoff, std::uint64_t(shnum) * kShdrBytes))
    return malformed("section header table (" + std::to_string(ehdr.e_shnum ? ehdr.e_shnum : shnum) + " entries at offset " +
                     std::to_string(ehdr.e_shoff) + ") is truncated");
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return malformed("e_shstrndx: " + libelf_error());
  if (shstrndx >= shnum) return malformed("e_shstrndx " + std::to_string(shstrndx) + " is out of range");

  f.sections_.resize(shnum);
  f.scns_.resize(shnum);
  struct Extent { std::uint64_t begin, end; std::uint32_t index; };
  std::vector<Extent> extents;
  extents.push_back({0, kEhdrBytes, kMaxSections});
  extents.push_back({ehdr.e_shoff, ehdr.e_shoff + std::uint64_t(shnum) * kShdrBytes, kMaxSections});
  std::vector<std::uint32_t> name_offsets(shnum);
  for (std::uint32_t i = 0; i < shnum; ++i) {
    Elf_Scn* scn = elf_getscn(elf, i);
    GElf_Shdr sh;
    if (!scn || !gelf_getshdr(scn, &sh)) return malformed(section_no(i) + ": header: " + libelf_error());
    f.scns_[i] = scn;
    auto& s = f.sections_[i];
    s.index = i;
    name_offsets[i] = sh.sh_name;
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    s.offset = sh.sh_offset;
    s.size = sh.sh_size;
    s.link = sh.sh_link;
    s.info = sh.sh_info;
    s.align = sh.sh_addralign;
    s.entsize = sh.sh_entsize;
    if (i == 0 || s.type == SHT_NOBITS || s.type == SHT_NULL) continue;
    // Checked before any data is asked for: elf_getdata reads (or converts) the whole section.
    if (!fits(file_size, s.offset, s.size))
      return malformed(section_no(i) + ": data [" + std::to_string(s.offset) + ", +" + std::to_string(s.size) +
                       ") is outside the file of " + std::to_string(file_size) + " bytes");
    if (s.size) extents.push_back({s.offset, s.offset + s.size, i});
  }
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  for (std::size_t k = 1; k < extents.size(); ++k)
    if (extents[k].begin < extents[k - 1].end) {
      auto who = [](const Extent& e) { return e.index == kMaxSections ? std::string("ELF headers") : section_no(e.index); };
      return malformed(who(extents[k]) + " at offset " + std::to_string(extents[k].begin) + " overlaps " + who(extents[k - 1]));
    }

  // Section data, the name table first since names decide. DWARF (.debug_*) is never read (line info
  // comes from .BTF.ext), so it is not asked for: `clang -g` objects, --compress-debug-sections or not,
  // cost nothing for it. Any other compressed section is inflated. A `.debug_*` name on a loaded or
  // executable section (a crafted object) does not excuse it: every later stage reads those whole.
  auto load_data = [&](std::uint32_t i) -> Result<void> {
    auto& s = f.sections_[i];
    const bool dwarf = s.name.starts_with(".debug_") && !(s.flags & (SHF_ALLOC | SHF_EXECINSTR));
    if (s.type == SHT_NOBITS || s.type == SHT_NULL || dwarf) return {};
    const auto at_section = [&](Error e) {
      e.reason = "ELF: " + (s.name.empty() ? section_no(i) : describe_section(s)) + ": " + e.reason;
      return e;
    };
    if (s.flags & SHF_COMPRESSED) {
      if (s.flags & SHF_ALLOC) return at_section(problem("SHF_ALLOC and SHF_COMPRESSED (the ELF gABI forbids compressing loaded sections)"));
      auto inflated = inflate(f.scns_[i]);
      if (!inflated) return at_section(std::move(inflated).error());
      s.size = *inflated;
    }
    if (auto r = check_entries(s); !r) return at_section(std::move(r).error());
    auto data = section_bytes(f.scns_[i], s.size);
    if (!data) return at_section(std::move(data).error());
    s.data = *data;
    return {};
  };
  auto& shstr = f.sections_[shstrndx];
  if (shstr.type != SHT_STRTAB) return malformed("section name table #" + std::to_string(shstrndx) + " is not SHT_STRTAB");
  if (auto r = load_data(static_cast<std::uint32_t>(shstrndx)); !r) return std::move(r).error();
  for (std::uint32_t i = 1; i < shnum; ++i)
    if (!string_at(shstr.data, name_offsets[i], f.sections_[i].name))
      return malformed(section_no(i) + ": name offset " + std::to_string(name_offsets[i]) + " is outside the section name table");
  for (std::uint32_t i = 1; i < shnum; ++i)
    if (i != shstrndx)
      if (auto r = load_data(i); !r) return std::move(r).error();

  const ElfSection* symtab = nullptr;
  for (const auto& s : f.sections_)
    if (s.type == SHT_SYMTAB) {
      if (symtab) return malformed("more than one symbol table");
      symtab = &s;
    }
  if (!symtab) return malformed("no symbol table (SHT_SYMTAB)");
  const auto* strtab = f.section(symtab->link);
  if (!strtab || strtab->type != SHT_STRTAB)
    return malformed(describe_section(*symtab) + ": sh_link " + std::to_string(symtab->link) + " is not a string table");
  Elf_Data* symdata = elf_getdata(f.scns_[symtab->index], nullptr);
  if (!symdata) return malformed(describe_section(*symtab) + ": " + libelf_error());
  const std::size_t nsyms = symtab->size / kSymBytes;  // whole entries, at most INT_MAX (check_entries)
  f.symbols_.resize(nsyms);
  for (std::size_t i = 0; i < nsyms; ++i) {
    GElf_Sym gs;
    if (!gelf_getsym(symdata, static_cast<int>(i), &gs)) return malformed("symbol #" + std::to_string(i) + ": " + libelf_error());
    auto& sym = f.symbols_[i];
    sym.index = static_cast<std::uint32_t>(i);
    sym.bind = static_cast<std::uint8_t>(GELF_ST_BIND(gs.st_info));
    sym.type = static_cast<std::uint8_t>(GELF_ST_TYPE(gs.st_info));
    sym.visibility = static_cast<std::uint8_t>(GELF_ST_VISIBILITY(gs.st_other));
    sym.shndx = gs.st_shndx;
    sym.value = gs.st_value;
    sym.size = gs.st_size;
    if (!string_at(strtab->data, gs.st_name, sym.name))
      return malformed("symbol #" + std::to_string(i) + ": name offset " + std::to_string(gs.st_name) + " is outside " +
                       describe_section(*strtab));
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
  if (!rel.holds_relocations()) return malformed(describe_section(rel) + " is neither SHT_REL nor SHT_RELA");
  const bool rela = rel.type == SHT_RELA;
  if (rel.index >= scns_.size() || &sections_[rel.index] != &rel) return malformed(describe_section(rel) + " is not a section of this object");
  // parse() read the table and checked whole entries (check_entries), unless it is named .debug_*.
  if (rel.data.size() != rel.size) return malformed(describe_section(rel) + " was not read (a DWARF name)");
  Elf_Data* data = elf_getdata(scns_[rel.index], nullptr);
  if (!data) return malformed(describe_section(rel) + ": " + libelf_error());
  std::vector<ElfRel> out(rel.size / (rela ? kRelaBytes : kRelBytes));
  for (std::size_t i = 0; i < out.size(); ++i) {
    GElf_Xword info = 0;
    if (rela) {
      GElf_Rela r;
      if (!gelf_getrela(data, static_cast<int>(i), &r)) return malformed(describe_section(rel) + ": relocation #" + std::to_string(i) + ": " + libelf_error());
      out[i].offset = r.r_offset;
      out[i].explicit_addend = true;
      out[i].addend = r.r_addend;
      info = r.r_info;
    } else {
      GElf_Rel r;
      if (!gelf_getrel(data, static_cast<int>(i), &r)) return malformed(describe_section(rel) + ": relocation #" + std::to_string(i) + ": " + libelf_error());
      out[i].offset = r.r_offset;
      info = r.r_info;
    }
    out[i].sym = static_cast<std::uint32_t>(GELF_R_SYM(info));
    out[i].type = static_cast<std::uint32_t>(GELF_R_TYPE(info));
    if (out[i].sym >= symbols_.size())
      return malformed(describe_section(rel) + ": relocation #" + std::to_string(i) + " names symbol " + std::to_string(out[i].sym) +
                       " of " + std::to_string(symbols_.size()));
  }
  return out;
}

}  // namespace bpfvm::loader
