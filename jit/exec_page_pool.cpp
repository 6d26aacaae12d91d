// ExecPagePool: a free list of read+write page blocks, best fit within 2× the requested size.
#include "jit/exec_page_pool.hpp"

namespace bpfvm::jit {

ExecPagePool& ExecPagePool::instance() {
  static auto* pool = new ExecPagePool();  // leaked on purpose: see the header
  return *pool;
}

PageBlock ExecPagePool::take(std::size_t bytes) {
  const std::lock_guard lock(mutex_);
  auto best = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    const bool fits = it->bytes >= bytes && it->bytes <= 2 * bytes;  // at most half of it wasted
    if (fits && (best == free_.end() || it->bytes < best->bytes)) best = it;
  }
  if (best == free_.end()) return {};
  const PageBlock block = *best;
  *best = free_.back();
  free_.pop_back();
  pooled_bytes_ -= block.bytes;
  return block;
}

bool ExecPagePool::give_back(PageBlock block) {
  const std::lock_guard lock(mutex_);
  if (pooled_bytes_ + block.bytes > kMaxPooledBytes) return false;
  free_.push_back(block);
  pooled_bytes_ += block.bytes;
  return true;
}

std::size_t ExecPagePool::pooled_bytes() const {
  const std::lock_guard lock(mutex_);
  return pooled_bytes_;
}

}  // namespace bpfvm::jit
