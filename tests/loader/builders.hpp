// Test-only builders that craft BTF blobs and BPF ELF objects byte by byte.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfvm::loader::test {

inline void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}
inline void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x));
  v.push_back(static_cast<std::uint8_t>(x >> 8));
}
inline void put64(std::vector<std::uint8_t>& v, std::uint64_t x) {
  for (int i = 0; i < 8; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}
inline void poke32(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) { std::memcpy(v.data() + at, &x, 4); }
inline void poke64(std::vector<std::uint8_t>& v, std::size_t at, std::uint64_t x) { std::memcpy(v.data() + at, &x, 8); }
inline std::uint64_t peek64(const std::vector<std::uint8_t>& v, std::size_t at) {
  std::uint64_t x;
  std::memcpy(&x, v.data() + at, 8);
  return x;
}

inline std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

/// Builds a BTF blob; type ids are returned in order starting at 1.
class BtfBuilder {
 public:
  struct Member { std::string_view name; std::uint32_t type; std::uint32_t bit_offset; std::uint32_t bitfield_size = 0; };

  std::uint32_t str(std::string_view s) {
    if (s.empty()) return 0;
    const auto off = static_cast<std::uint32_t>(strs_.size());
    strs_.append(s);
    strs_.push_back('\0');
    return off;
  }
  std::uint32_t raw(std::uint32_t name_off, std::uint32_t kind, std::uint32_t vlen, bool kflag, std::uint32_t size_or_type,
                    std::initializer_list<std::uint32_t> extra = {}) {
    put32(types_, name_off);
    put32(types_, (kind << 24) | (vlen & 0xffff) | (kflag ? 0x80000000u : 0));
    put32(types_, size_or_type);
    for (auto w : extra) put32(types_, w);
    return ++count_;
  }
  std::uint32_t add_int(std::string_view name, std::uint32_t size, std::uint32_t encoding = 0) {
    return raw(str(name), 1, 0, false, size, {(encoding << 24) | (size * 8)});
  }
  std::uint32_t add_ptr(std::uint32_t type) { return raw(0, 2, 0, false, type); }
  std::uint32_t add_array(std::uint32_t elem, std::uint32_t index, std::uint32_t n) { return raw(0, 3, 0, false, 0, {elem, index, n}); }
  std::uint32_t add_struct(std::string_view name, std::uint32_t size, std::initializer_list<Member> members, bool is_union = false) {
    bool kflag = false;
    for (const auto& m : members) kflag |= m.bitfield_size != 0;
    put32(types_, str(name));
    put32(types_, ((is_union ? 5u : 4u) << 24) | static_cast<std::uint32_t>(members.size()) | (kflag ? 0x80000000u : 0));
    put32(types_, size);
    for (const auto& m : members) {
      put32(types_, str(m.name));
      put32(types_, m.type);
      put32(types_, kflag ? (m.bitfield_size << 24) | m.bit_offset : m.bit_offset);
    }
    return ++count_;
  }
  std::uint32_t add_enum(std::string_view name, std::uint32_t size, std::initializer_list<std::pair<std::string_view, std::int32_t>> values) {
    put32(types_, str(name));
    put32(types_, (6u << 24) | static_cast<std::uint32_t>(values.size()));
    put32(types_, size);
    for (const auto& [n, v] : values) {
      put32(types_, str(n));
      put32(types_, static_cast<std::uint32_t>(v));
    }
    return ++count_;
  }
  std::uint32_t add_typedef(std::string_view name, std::uint32_t type) { return raw(str(name), 8, 0, false, type); }
  std::uint32_t add_const(std::uint32_t type) { return raw(0, 10, 0, false, type); }
  std::uint32_t add_func_proto(std::uint32_t ret, std::initializer_list<std::uint32_t> params) {
    put32(types_, 0);
    put32(types_, (13u << 24) | static_cast<std::uint32_t>(params.size()));
    put32(types_, ret);
    for (auto p : params) {
      put32(types_, 0);
      put32(types_, p);
    }
    return ++count_;
  }
  std::uint32_t add_func(std::string_view name, std::uint32_t proto, std::uint32_t linkage = 1) {
    return raw(str(name), 12, linkage, false, proto);
  }
  std::uint32_t add_var(std::string_view name, std::uint32_t type, std::uint32_t linkage = 1) {
    return raw(str(name), 14, 0, false, type, {linkage});
  }
  std::uint32_t add_datasec(std::string_view name, std::uint32_t size, std::initializer_list<std::array<std::uint32_t, 3>> vars) {
    put32(types_, str(name));
    put32(types_, (15u << 24) | static_cast<std::uint32_t>(vars.size()));
    put32(types_, size);
    for (const auto& v : vars)
      for (auto w : v) put32(types_, w);
    return ++count_;
  }
  std::uint32_t add_float(std::string_view name, std::uint32_t size) { return raw(str(name), 16, 0, false, size); }

  std::vector<std::uint8_t> build() const {
    std::vector<std::uint8_t> out;
    put16(out, 0xeB9F);
    out.push_back(1);
    out.push_back(0);
    put32(out, 24);
    put32(out, 0);
    put32(out, static_cast<std::uint32_t>(types_.size()));
    put32(out, static_cast<std::uint32_t>(types_.size()));
    put32(out, static_cast<std::uint32_t>(strs_.size()));
    out.insert(out.end(), types_.begin(), types_.end());
    out.insert(out.end(), strs_.begin(), strs_.end());
    return out;
  }
  std::uint32_t count() const { return count_; }

 private:
  std::vector<std::uint8_t> types_;
  std::string strs_ = std::string(1, '\0');
  std::uint32_t count_ = 0;
};

/// Builds a 64-bit little-endian EM_BPF ET_REL object.
class ElfBuilder {
 public:
  struct Section {
    std::string name;
    std::uint32_t type = 1;  // SHT_PROGBITS
    std::uint64_t flags = 0;
    std::vector<std::uint8_t> data;
    std::uint64_t nobits_size = 0;
  };
  struct Rel { std::uint32_t target; std::uint64_t offset; std::uint32_t sym; std::uint32_t type; std::int64_t addend; };

  /// Returns the section index (1-based; 0 is the null section).
  std::uint32_t add_section(std::string name, std::uint32_t type, std::uint64_t flags, std::vector<std::uint8_t> data = {}) {
    sections_.push_back({std::move(name), type, flags, std::move(data), 0});
    return static_cast<std::uint32_t>(sections_.size());
  }
  std::uint32_t add_code(std::string name, std::vector<std::uint8_t> code) { return add_section(std::move(name), 1, 0x6, std::move(code)); }
  /// Returns the symbol index.
  std::uint32_t add_symbol(std::string name, std::uint16_t shndx, std::uint8_t bind, std::uint8_t type, std::uint64_t value, std::uint64_t size) {
    symbols_.push_back({std::move(name), shndx, bind, type, value, size});
    return static_cast<std::uint32_t>(symbols_.size());
  }
  void add_rel(std::uint32_t target, std::uint64_t offset, std::uint32_t sym, std::uint32_t type = 1, std::int64_t addend = 0) {
    rels_.push_back({target, offset, sym, type, addend});
  }
  /// Emit ".rela<x>" SHT_RELA sections (with each add_rel addend) instead of ".rel<x>" SHT_REL.
  void use_rela() { rela_ = true; }

  std::vector<std::uint8_t> build() const {
    struct Out { std::string name; std::uint32_t type; std::uint64_t flags; std::vector<std::uint8_t> data; std::uint64_t size; std::uint32_t link, info; std::uint64_t entsize; };
    std::vector<Out> out;
    for (const auto& s : sections_) out.push_back({s.name, s.type, s.flags, s.data, s.type == 8 ? s.nobits_size : s.data.size(), 0, 0, 0});
    // Symbol and string tables.
    std::vector<std::uint8_t> strtab{0}, symtab(24, 0);
    for (const auto& s : symbols_) {
      const auto off = static_cast<std::uint32_t>(strtab.size());
      strtab.insert(strtab.end(), s.name.begin(), s.name.end());
      strtab.push_back(0);
      put32(symtab, s.name.empty() ? 0 : off);
      symtab.push_back(static_cast<std::uint8_t>((s.bind << 4) | s.type));
      symtab.push_back(0);
      put16(symtab, s.shndx);
      put64(symtab, s.value);
      put64(symtab, s.size);
    }
    const auto strtab_idx = static_cast<std::uint32_t>(out.size() + 1);
    out.push_back({".strtab", 3, 0, strtab, strtab.size(), 0, 0, 0});
    const auto symtab_idx = static_cast<std::uint32_t>(out.size() + 1);
    out.push_back({".symtab", 2, 0, symtab, symtab.size(), strtab_idx, 1, 24});
    for (std::uint32_t t = 1; t <= sections_.size(); ++t) {
      std::vector<std::uint8_t> rel;
      for (const auto& r : rels_)
        if (r.target == t) {
          put64(rel, r.offset);
          put64(rel, (std::uint64_t(r.sym) << 32) | r.type);
          if (rela_) put64(rel, static_cast<std::uint64_t>(r.addend));
        }
      if (!rel.empty())
        out.push_back({(rela_ ? ".rela" : ".rel") + sections_[t - 1].name, rela_ ? 4u : 9u, 0, rel, rel.size(), symtab_idx, t, rela_ ? 24u : 16u});
    }
    std::vector<std::uint8_t> shstr{0};
    std::vector<std::uint32_t> name_offs;
    for (const auto& s : out) {
      name_offs.push_back(static_cast<std::uint32_t>(shstr.size()));
      shstr.insert(shstr.end(), s.name.begin(), s.name.end());
      shstr.push_back(0);
    }
    name_offs.push_back(static_cast<std::uint32_t>(shstr.size()));
    const std::string shstr_name = ".shstrtab";
    shstr.insert(shstr.end(), shstr_name.begin(), shstr_name.end());
    shstr.push_back(0);
    out.push_back({".shstrtab", 3, 0, shstr, shstr.size(), 0, 0, 0});

    std::vector<std::uint8_t> file(64, 0);
    std::vector<std::uint64_t> offsets;
    for (const auto& s : out) {
      while (file.size() % 8) file.push_back(0);
      offsets.push_back(file.size());
      if (s.type != 8) file.insert(file.end(), s.data.begin(), s.data.end());
    }
    while (file.size() % 8) file.push_back(0);
    const std::uint64_t shoff = file.size();
    file.resize(file.size() + 64, 0);  // null section header
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& s = out[i];
      put32(file, name_offs[i]);
      put32(file, s.type);
      put64(file, s.flags);
      put64(file, 0);
      put64(file, offsets[i]);
      put64(file, s.size);
      put32(file, s.link);
      put32(file, s.info);
      put64(file, 8);
      put64(file, s.entsize);
    }
    const unsigned char ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    std::memcpy(file.data(), ident, 16);
    auto w16 = [&](std::size_t at, std::uint16_t v) { std::memcpy(file.data() + at, &v, 2); };
    w16(16, 1);    // ET_REL
    w16(18, 247);  // EM_BPF
    poke32(file, 20, 1);
    poke64(file, 40, shoff);
    w16(52, 64);
    w16(58, 64);
    w16(60, static_cast<std::uint16_t>(out.size() + 1));
    w16(62, static_cast<std::uint16_t>(out.size()));
    return file;
  }

 private:
  struct Sym { std::string name; std::uint16_t shndx; std::uint8_t bind, type; std::uint64_t value, size; };
  std::vector<Section> sections_;
  std::vector<Sym> symbols_;
  std::vector<Rel> rels_;
  bool rela_ = false;
};

/// Encodes one instruction.
inline void emit(std::vector<std::uint8_t>& code, std::uint8_t op, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  code.push_back(op);
  code.push_back(static_cast<std::uint8_t>((src << 4) | dst));
  put16(code, static_cast<std::uint16_t>(off));
  put32(code, static_cast<std::uint32_t>(imm));
}

}  // namespace bpfvm::loader::test
