// ExecMemory: the move-only owner of one block of generated code. Pages are written while
// read+write, then flipped to read+execute; no page is ever writable and executable at once.
// Dropped blocks go back to ExecPagePool read+write (never executable) for the next compile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bpfvm/result.hpp"

namespace bpfvm::jit {

class ExecMemory {
 public:
  /// Takes a pooled block or maps fresh pages, copies `code` in, and makes them read+execute. Errc::Io when the OS refuses.
  static Result<ExecMemory> create(std::span<const std::uint8_t> code);

  ExecMemory() = default;
  ExecMemory(ExecMemory&& other) noexcept;
  ExecMemory& operator=(ExecMemory&& other) noexcept;
  ExecMemory(const ExecMemory&) = delete;
  ExecMemory& operator=(const ExecMemory&) = delete;
  ~ExecMemory();

  const std::uint8_t* data() const { return static_cast<const std::uint8_t*>(base_); }
  std::size_t size_bytes() const { return code_bytes_; }      // bytes of code
  std::size_t mapped_bytes() const { return mapped_bytes_; }  // whole pages
  std::uintptr_t address() const { return reinterpret_cast<std::uintptr_t>(base_); }

 private:
  void release() noexcept;

  void* base_ = nullptr;
  std::size_t code_bytes_ = 0;
  std::size_t mapped_bytes_ = 0;
};

}  // namespace bpfvm::jit
