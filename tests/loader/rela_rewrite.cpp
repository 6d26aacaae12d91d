// rela_rewrite IN OUT: writes a clang-built BPF object again with every SHT_REL section as SHT_RELA
// (".rel<x>" becomes ".rela<x>"), the way other toolchains emit relocations: the addend clang left in
// the relocated field moves into r_addend. In code sections the field is then cleared, so a loader that
// still read it would load different code; elsewhere (.BTF.ext, DWARF, .maps) the bytes stay, since
// their readers (libbpf, bpfvm) take those values as they are. A test-time ELF writer on libelf's
// read-write API: libelf lays the grown sections out anew.
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

int fail(const std::string& what) {
  const char* msg = elf_errmsg(-1);
  std::fprintf(stderr, "rela_rewrite: %s%s%s\n", what.c_str(), msg ? ": " : "", msg ? msg : "");
  return 1;
}

std::int64_t read_signed(const std::uint8_t* p, int bytes) {
  if (bytes == 8) {
    std::int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool copy_file(const char* from, int to_fd) {
  FILE* in = std::fopen(from, "rb");
  if (!in) return false;
  char buf[65536];
  std::size_t n;
  bool ok = true;
  while (ok && (n = std::fread(buf, 1, sizeof buf, in)) > 0) ok = write(to_fd, buf, n) == static_cast<ssize_t>(n);
  std::fclose(in);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: rela_rewrite IN.o OUT.o\n");
    return 2;
  }
  if (elf_version(EV_CURRENT) == EV_NONE) return fail("elf_version");
  const int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || !copy_file(argv[1], fd)) return fail(std::string("cannot copy ") + argv[1] + " to " + argv[2]);
  Elf* elf = elf_begin(fd, ELF_C_RDWR, nullptr);
  if (!elf) return fail("elf_begin");
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return fail("elf_getshdrstrndx");
  Elf_Scn* shstr_scn = elf_getscn(elf, shstrndx);
  Elf_Data* shstr = elf_getdata(shstr_scn, nullptr);
  if (!shstr) return fail("section name table");
  std::vector<char> names(static_cast<char*>(shstr->d_buf), static_cast<char*>(shstr->d_buf) + shstr->d_size);
  std::deque<std::vector<GElf_Rela>> tables;  // stable storage until elf_update
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return fail("gelf_getshdr");
    if (sh.sh_type != SHT_REL) continue;
    Elf_Data* rel = elf_getdata(scn, nullptr);
    Elf_Scn* target_scn = elf_getscn(elf, sh.sh_info);
    GElf_Shdr target;
    Elf_Data* bytes = target_scn && gelf_getshdr(target_scn, &target) ? elf_getdata(target_scn, nullptr) : nullptr;
    if (!rel || !bytes) return fail("relocation section " + std::to_string(elf_ndxscn(scn)));
    const bool code = (target.sh_flags & SHF_EXECINSTR) != 0;
    auto& out = tables.emplace_back(sh.sh_size / sizeof(Elf64_Rel));
    for (std::size_t i = 0; i < out.size(); ++i) {
      GElf_Rel r;
      if (!gelf_getrel(rel, static_cast<int>(i), &r)) return fail("gelf_getrel");
      // Where clang keeps each type's addend (Documentation/bpf/llvm_reloc.rst).
      std::size_t at = r.r_offset;
      int width = 4;
      std::int64_t scale = 1, bias = 0;
      switch (GELF_R_TYPE(r.r_info)) {
        case 1: at += 4; break;                         // R_BPF_64_64: lddw imm, S + A
        case 10: at += 4; scale = 8; bias = 1; break;   // R_BPF_64_32: call imm = (S + A) / 8 - 1
        case 2: width = 8; break;                       // R_BPF_64_ABS64
        case 3: case 4: break;                          // R_BPF_64_ABS32, R_BPF_64_NODYLD32
        default: return fail("relocation type " + std::to_string(GELF_R_TYPE(r.r_info)));
      }
      if (at + width > bytes->d_size) return fail("relocation offset " + std::to_string(r.r_offset));
      auto* field = static_cast<std::uint8_t*>(bytes->d_buf) + at;
      out[i].r_offset = r.r_offset;
      out[i].r_info = r.r_info;
      out[i].r_addend = (read_signed(field, width) + bias) * scale;
      if (code) std::memset(field, 0, width);
    }
    if (code) elf_flagdata(bytes, ELF_C_SET, ELF_F_DIRTY);
    rel->d_buf = out.data();
    rel->d_size = out.size() * sizeof(Elf64_Rela);
    rel->d_type = ELF_T_RELA;
    elf_flagdata(rel, ELF_C_SET, ELF_F_DIRTY);
    // ".rel<x>" -> ".rela<x>", appended to the name table.
    const std::string old_name = &names.at(sh.sh_name);
    if (old_name.rfind(".rel", 0) != 0) return fail("relocation section named " + old_name);
    sh.sh_name = static_cast<GElf_Word>(names.size());
    const std::string new_name = ".rela" + old_name.substr(4);
    names.insert(names.end(), new_name.c_str(), new_name.c_str() + new_name.size() + 1);
    sh.sh_type = SHT_RELA;
    sh.sh_entsize = sizeof(Elf64_Rela);
    sh.sh_size = rel->d_size;
    if (!gelf_update_shdr(scn, &sh)) return fail("gelf_update_shdr");
  }
  shstr->d_buf = names.data();
  shstr->d_size = names.size();
  elf_flagdata(shstr, ELF_C_SET, ELF_F_DIRTY);
  if (elf_update(elf, ELF_C_WRITE) < 0) return fail("elf_update");
  elf_end(elf);
  close(fd);
  return 0;
}
