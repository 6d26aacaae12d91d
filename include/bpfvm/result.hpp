// Error and Result<T>: how every bpfvm stage reports failure without exceptions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace bpfvm {

/// Stable error categories; mirrored one to one by the C API's BPFVM_E* codes.
enum class Errc : std::uint8_t {
  Ok = 0,
  InvalidArgument,  ///< caller passed something unusable (bad option, empty program)
  Malformed,        ///< bytecode, assembly or ELF that does not parse or decode
  Unsupported,      ///< valid input bpfvm does not implement yet
  Rejected,         ///< the verifier refused the program
  MemoryFault,      ///< checked mode: a load/store outside every allowed region
  BudgetExceeded,   ///< the run used more instructions than its budget
  CallDepth,        ///< more than kMaxCallFrames nested BPF-to-BPF calls
  HelperFault,      ///< a helper refused its arguments or is not registered
  Io,               ///< a file could not be read or written
  Internal,         ///< a bpfvm bug; please report
};

/// Name of an error category, e.g. "malformed".
const char* errc_name(Errc code) noexcept;

inline constexpr std::uint32_t kNoPc = 0xffffffffu;

/// One failure: a category, the instruction index when one applies, and a one-line reason.
struct Error {
  Errc code = Errc::Internal;
  std::uint32_t pc = kNoPc;
  std::string reason;

  /// "insn 4: reason" when a pc applies, otherwise the reason alone.
  std::string message() const;
};

inline Error make_error(Errc code, std::string reason, std::uint32_t pc = kNoPc) {
  return Error{code, pc, std::move(reason)};
}

/// A value or an Error; the subset of std::expected that bpfvm uses.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{};
  bool ok_ = true;
};

}  // namespace bpfvm
