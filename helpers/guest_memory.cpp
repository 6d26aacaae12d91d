// Safe copies from program-supplied addresses (probe_read family, %s in printk formats).
#include "helpers/guest_memory.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bpfvm::helpers::detail {

std::string hex(std::uint64_t v) {
  char b[19];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

namespace {

// process_vm_readv on our own pid reports EFAULT for unmapped ranges instead of delivering SIGSEGV,
// which makes it the userspace equivalent of copy_from_kernel_nofault.
std::size_t read_nofault(void* dst, std::uint64_t src, std::size_t n) {
  if (n == 0) return 0;
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(src)), n};
  const ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return got < 0 ? 0 : static_cast<std::size_t>(got);
}

}  // namespace

bool probe_copy(vm::RunContext* run, void* dst, std::uint64_t src, std::size_t n) {
  if (n == 0) return true;
  if (src + n < src) return false;
  if (checked(run)) {
    if (!run->allowed(static_cast<std::uintptr_t>(src), n, false)) return false;
    std::memmove(dst, ptr(src), n);
    return true;
  }
  return read_nofault(dst, src, n) == n;
}

long probe_copy_str(vm::RunContext* run, char* dst, std::uint64_t src, std::size_t n) {
  // Byte-wise in checked mode (each byte must be allowed); page-sized chunks otherwise, so a string
  // ending just before an unmapped page still copies.
  std::size_t i = 0;
  while (i + 1 < n) {
    char c;
    if (checked(run)) {
      if (!run->allowed(static_cast<std::uintptr_t>(src + i), 1, false)) break;
      std::memcpy(&c, ptr(src + i), 1);
    } else {
      const std::uint64_t page_left = 4096 - ((src + i) & 4095);
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(page_left, n - 1 - i));
      const std::size_t got = read_nofault(dst + i, src + i, want);
      if (got == 0) break;
      const void* nul = std::memchr(dst + i, 0, got);
      if (nul) return static_cast<const char*>(nul) - dst + 1;
      i += got;
      continue;
    }
    dst[i++] = c;
    if (c == 0) return static_cast<long>(i);
  }
  if (i + 1 == n || (n == 1)) {  // buffer full: truncate
    dst[i] = 0;
    return static_cast<long>(i + 1);
  }
  dst[0] = 0;
  return -EFAULT;
}

}  // namespace bpfvm::helpers::detail
