// A short list of value or block ids: an instruction's operands (Inst::args), a block's predecessors
// and successors. The part of std::vector's interface the passes and backends use, with up to kInline
// ids stored in the object itself: almost every instruction has at most three operands, a Select
// four, a helper call five, and a block one or two predecessors and successors; only phis and joins
// with many predecessors reach the heap, so building and rewriting the IR does not allocate once per
// instruction and block (before, malloc and free were a quarter of a compile: jit/opt/README.md
// "Compile time").
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace bpfvm::jit::opt {

using ValueId = std::uint32_t;

class IdList {  // of ValueId or BlockId (both std::uint32_t)
 public:
  static constexpr std::uint32_t kInline = 6;

  IdList() = default;
  IdList(std::initializer_list<ValueId> values) { append(values.begin(), values.size()); }
  IdList(const std::vector<ValueId>& values) { append(values.data(), values.size()); }  // NOLINT: implicit, as a vector's copy
  IdList(const IdList& other) { append(other.data(), other.size()); }
  IdList(IdList&& other) noexcept { take(other); }
  ~IdList() { release(); }

  IdList& operator=(const IdList& other) {
    if (this != &other) {
      size_ = 0;
      append(other.data(), other.size());
    }
    return *this;
  }
  IdList& operator=(IdList&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  IdList& operator=(std::initializer_list<ValueId> values) {
    size_ = 0;
    append(values.begin(), values.size());
    return *this;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ValueId* data() { return on_heap() ? heap_ : inline_; }
  const ValueId* data() const { return on_heap() ? heap_ : inline_; }
  ValueId& operator[](std::size_t k) { return data()[k]; }
  const ValueId& operator[](std::size_t k) const { return data()[k]; }
  ValueId* begin() { return data(); }
  ValueId* end() { return data() + size_; }
  const ValueId* begin() const { return data(); }
  const ValueId* end() const { return data() + size_; }
  ValueId& back() { return data()[size_ - 1]; }
  const ValueId& back() const { return data()[size_ - 1]; }

  void clear() { size_ = 0; }
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  void push_back(ValueId v) {
    if (size_ == capacity_) grow(2 * static_cast<std::size_t>(capacity_));
    data()[size_++] = v;
  }
  void pop_back() { --size_; }

  friend bool operator==(const IdList& a, const IdList& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const { return capacity_ > kInline; }

  void append(const ValueId* values, std::size_t n) {
    reserve(size_ + n);
    std::copy(values, values + n, data() + size_);
    size_ += static_cast<std::uint32_t>(n);
  }
  void grow(std::size_t n) {
    auto* bigger = new ValueId[n];
    std::copy(begin(), end(), bigger);
    release();
    heap_ = bigger;
    capacity_ = static_cast<std::uint32_t>(n);
  }
  void release() {
    if (on_heap()) delete[] heap_;
    capacity_ = kInline;
  }
  // Leaves `other` empty (and back on its inline storage).
  void take(IdList& other) {
    size_ = other.size_;
    capacity_ = other.capacity_;
    if (other.on_heap())
      heap_ = other.heap_;
    else
      std::copy(other.inline_, other.inline_ + other.size_, inline_);
    other.size_ = 0;
    other.capacity_ = kInline;
  }

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInline;  // above kInline: the operands are in heap_
  union {
    ValueId inline_[kInline];
    ValueId* heap_;
  };
};

}  // namespace bpfvm::jit::opt
