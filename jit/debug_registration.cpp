// perf map lines and the GDB JIT interface (gdb docs, "JIT Compilation Interface"). The
// descriptor and the breakpoint function must be global with these exact names: that is the
// interface's contract, and the one piece of global mutable state in bpfvm::jit (guarded by a mutex).
#include "jit/debug_registration.hpp"

#include <elf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>

extern "C" {
typedef enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN } jit_actions_t;

struct jit_descriptor {
  std::uint32_t version;
  std::uint32_t action_flag;
  jit_code_entry* relevant_entry;
  jit_code_entry* first_entry;
};

// gdb sets a breakpoint here; it must not be inlined or optimised away.
void __attribute__((noinline, used)) __jit_debug_register_code() { asm volatile("" ::: "memory"); }
jit_descriptor __jit_debug_descriptor = {1, JIT_NOACTION, nullptr, nullptr};
}

namespace bpfvm::jit {

namespace {
std::mutex& gdb_mutex() {
  static std::mutex m;
  return m;
}

template <class T>
void append(std::vector<std::uint8_t>& out, const T& v) {
  const std::size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}
}  // namespace

std::vector<std::uint8_t> make_symfile(const std::string& name, std::uintptr_t address, std::size_t size_bytes) {
  // Layout: header | strtab | shstrtab | symtab | section headers.
  std::string strtab = std::string(1, '\0') + name + '\0';
  const std::string shstrtab = std::string("\0.text\0.symtab\0.strtab\0.shstrtab\0", 33);
  const std::size_t strtab_off = sizeof(Elf64_Ehdr);
  const std::size_t shstrtab_off = strtab_off + strtab.size();
  std::size_t symtab_off = shstrtab_off + shstrtab.size();
  symtab_off = (symtab_off + 7) & ~std::size_t{7};
  const std::size_t symtab_size = 2 * sizeof(Elf64_Sym);
  const std::size_t shdr_off = symtab_off + symtab_size;

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh.e_type = ET_EXEC;  // section addresses are final load addresses
#if defined(__aarch64__)
  eh.e_machine = EM_AARCH64;  // the host's code: debuggers pick the disassembler from it
#else
  eh.e_machine = EM_X86_64;
#endif
  eh.e_version = EV_CURRENT;
  eh.e_entry = address;
  eh.e_shoff = shdr_off;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 5;
  eh.e_shstrndx = 4;

  std::vector<std::uint8_t> out;
  append(out, eh);
  for (const std::string* s : std::initializer_list<const std::string*>{&strtab, &shstrtab}) {
    const std::size_t at = out.size();
    out.resize(at + s->size());
    std::memcpy(out.data() + at, s->data(), s->size());
  }
  out.resize(symtab_off, 0);
  Elf64_Sym null_sym{};
  append(out, null_sym);
  Elf64_Sym fn{};
  fn.st_name = 1;
  fn.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
  fn.st_shndx = 1;
  fn.st_value = address;
  fn.st_size = size_bytes;
  append(out, fn);

  Elf64_Shdr sh[5]{};
  sh[1].sh_name = 1;  // .text
  sh[1].sh_type = SHT_NOBITS;
  sh[1].sh_flags = SHF_ALLOC | SHF_EXECINSTR;
  sh[1].sh_addr = address;
  sh[1].sh_size = size_bytes;
  sh[1].sh_addralign = 16;
  sh[2].sh_name = 7;  // .symtab
  sh[2].sh_type = SHT_SYMTAB;
  sh[2].sh_offset = symtab_off;
  sh[2].sh_size = symtab_size;
  sh[2].sh_link = 3;
  sh[2].sh_info = 1;  // index of the first global symbol
  sh[2].sh_entsize = sizeof(Elf64_Sym);
  sh[2].sh_addralign = 8;
  sh[3].sh_name = 15;  // .strtab
  sh[3].sh_type = SHT_STRTAB;
  sh[3].sh_offset = strtab_off;
  sh[3].sh_size = strtab.size();
  sh[3].sh_addralign = 1;
  sh[4].sh_name = 23;  // .shstrtab
  sh[4].sh_type = SHT_STRTAB;
  sh[4].sh_offset = shstrtab_off;
  sh[4].sh_size = shstrtab.size();
  sh[4].sh_addralign = 1;
  for (const auto& s : sh) append(out, s);
  return out;
}

std::unique_ptr<DebugRegistration> DebugRegistration::create(const std::string& name, std::uintptr_t address,
                                                             std::size_t size_bytes) {
  std::unique_ptr<DebugRegistration> reg(new DebugRegistration());
  // perf: one line per symbol, "START SIZE name" in hex (tools/perf/Documentation/jit-interface.txt).
  char path[64];
  std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%lx %zx %s\n", static_cast<unsigned long>(address), size_bytes, name.c_str());
    std::fclose(f);
  }
  reg->symfile_ = make_symfile(name, address, size_bytes);
  jit_code_entry* e = &reg->entry_;
  e->symfile_addr = reinterpret_cast<const char*>(reg->symfile_.data());
  e->symfile_size = reg->symfile_.size();
  std::lock_guard lock(gdb_mutex());
  e->next_entry = __jit_debug_descriptor.first_entry;
  if (e->next_entry) e->next_entry->prev_entry = e;
  __jit_debug_descriptor.first_entry = e;
  __jit_debug_descriptor.relevant_entry = e;
  __jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
  __jit_debug_register_code();
  reg->linked_ = true;
  return reg;
}

DebugRegistration::~DebugRegistration() {
  if (!linked_) return;
  jit_code_entry* e = &entry_;
  std::lock_guard lock(gdb_mutex());
  if (e->prev_entry) e->prev_entry->next_entry = e->next_entry;
  else __jit_debug_descriptor.first_entry = e->next_entry;
  if (e->next_entry) e->next_entry->prev_entry = e->prev_entry;
  __jit_debug_descriptor.relevant_entry = e;
  __jit_debug_descriptor.action_flag = JIT_UNREGISTER_FN;
  __jit_debug_register_code();
}

}  // namespace bpfvm::jit
