// Error and Result<T>: how every bpfvm stage reports failure without exceptions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace bpfvm {

/// Stable error categories; mirrored one to one by the C API's BPFVM_E* codes.
enum class Errc : std::uint8_t {
  Ok = 0,  ///< no error (never in an Error; the C API's BPFVM_OK)
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
  Errno,            ///< a map command failed as bpf(2) would: Error::sys_errno holds the kernel's errno
};

/// Name of an error category, e.g. "malformed".
const char* errc_name(Errc code) noexcept;

/// Error::pc when no instruction applies.
inline constexpr std::uint32_t kNoPc = 0xffffffffu;

/// One failure: a category, the instruction index when one applies, and a one-line reason.
struct Error {
  Errc code = Errc::Internal;  ///< the category
  std::uint32_t pc = kNoPc;  ///< instruction index, or kNoPc
  std::string reason;  ///< one line: "r3 may be null before 8-byte load"
  int sys_errno = 0;  ///< Errc::Errno: the kernel's errno, positive (ENOENT, EEXIST, E2BIG...); else 0

  /// "insn 4: reason" when a pc applies, otherwise the reason alone.
  std::string message() const;
};

/// Builds an Error.
inline Error make_error(Errc code, std::string reason, std::uint32_t pc = kNoPc) {
  return Error{code, pc, std::move(reason)};
}

/// A value or an Error; the subset of std::expected that bpfvm uses.
template <class T>
class [[nodiscard]] Result {
 public:
  /// A success holding `value`.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  /// A failure.
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  /// True on success.
  bool has_value() const noexcept { return v_.index() == 0; }
  /// has_value().
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; only on success.
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  /// value().
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  /// Member access to value().
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only on failure.
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
/// Success or an Error, for operations without a value.
class [[nodiscard]] Result<void> {
 public:
  /// Success.
  Result() = default;
  /// A failure.
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)

  /// True on success.
  bool has_value() const noexcept { return ok_; }
  /// has_value().
  explicit operator bool() const noexcept { return ok_; }
  /// The error; only on failure.
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{};
  bool ok_ = true;
};

}  // namespace bpfvm
