// ExecMemory: mmap read+write, copy, mprotect read+execute, munmap on destruction.
#include "jit/exec_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace bpfvm::jit {

Result<ExecMemory> ExecMemory::create(std::span<const std::uint8_t> code) {
  if (code.empty()) return make_error(Errc::InvalidArgument, "ExecMemory: no code");
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t mapped = (code.size() + page - 1) / page * page;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return make_error(Errc::Io, std::string("ExecMemory: mmap failed: ") + std::strerror(errno));
  std::memcpy(p, code.data(), code.size());
  // AArch64 instruction fetch is not coherent with data writes: clean the D-cache and invalidate
  // the I-cache for the range before the code can run (a no-op on x86-64).
  __builtin___clear_cache(static_cast<char*>(p), static_cast<char*>(p) + code.size());
  if (mprotect(p, mapped, PROT_READ | PROT_EXEC) != 0) {
    const int err = errno;
    munmap(p, mapped);
    return make_error(Errc::Io, std::string("ExecMemory: mprotect failed: ") + std::strerror(err));
  }
  ExecMemory m;
  m.base_ = p;
  m.code_bytes_ = code.size();
  m.mapped_bytes_ = mapped;
  return m;
}

ExecMemory::ExecMemory(ExecMemory&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      code_bytes_(std::exchange(other.code_bytes_, 0)),
      mapped_bytes_(std::exchange(other.mapped_bytes_, 0)) {}

ExecMemory& ExecMemory::operator=(ExecMemory&& other) noexcept {
  if (this != &other) {
    release();
    base_ = std::exchange(other.base_, nullptr);
    code_bytes_ = std::exchange(other.code_bytes_, 0);
    mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  }
  return *this;
}

ExecMemory::~ExecMemory() { release(); }

void ExecMemory::release() noexcept {
  if (base_ != nullptr) munmap(base_, mapped_bytes_);
  base_ = nullptr;
  code_bytes_ = mapped_bytes_ = 0;
}

}  // namespace bpfvm::jit
