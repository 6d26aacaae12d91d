// RingMemory: one memfd mapped twice behind an anonymous meta page.
#include "maps/ring_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace bpfvm::maps {
namespace {
// RAII for the memfd used only while mapping.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error os_error(const char* name, const char* call) {
  return make_error(Errc::Io, std::string(name) + ": " + call + ": " + std::strerror(errno));
}
}  // namespace

Result<RingMemory> RingMemory::map(std::size_t data_bytes, const char* name) {
  RingMemory m;
  const long page = ::sysconf(_SC_PAGESIZE);
  m.page_bytes_ = page > 0 ? static_cast<std::size_t>(page) : 4096;
  m.data_bytes_ = data_bytes;
  Fd mem{::memfd_create(name, MFD_CLOEXEC)};
  if (mem.fd < 0 || ::ftruncate(mem.fd, static_cast<off_t>(data_bytes)) != 0) return os_error(name, "memfd");
  void* base = ::mmap(nullptr, m.page_bytes_ + 2 * data_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return os_error(name, "mmap");
  m.base_ = static_cast<std::byte*>(base);
  for (int copy = 0; copy < 2; ++copy) {
    void* at = ::mmap(m.data() + copy * data_bytes, data_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mem.fd, 0);
    if (at == MAP_FAILED) return os_error(name, "mmap");
  }
  return m;
}

RingMemory::RingMemory(RingMemory&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), page_bytes_(other.page_bytes_), data_bytes_(other.data_bytes_) {}

RingMemory& RingMemory::operator=(RingMemory&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, page_bytes_ + 2 * data_bytes_);
    base_ = std::exchange(other.base_, nullptr);
    page_bytes_ = other.page_bytes_;
    data_bytes_ = other.data_bytes_;
  }
  return *this;
}

RingMemory::~RingMemory() {
  if (base_) ::munmap(base_, page_bytes_ + 2 * data_bytes_);
}

bool RingMemory::holds(std::uintptr_t addr, std::size_t size_bytes) const {
  const auto begin = reinterpret_cast<std::uintptr_t>(data());
  const std::size_t span = 2 * data_bytes_;
  return base_ != nullptr && addr >= begin && size_bytes <= span && addr - begin <= span - size_bytes;
}

}  // namespace bpfvm::maps
