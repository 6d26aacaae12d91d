// ArgReader: walks a command's arguments — flags, options with values, positionals — and reports
// usage errors in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bpfvm::tools {

class ArgReader {
 public:
  explicit ArgReader(std::span<const std::string_view> args) : args_(args) {}

  bool done() const { return i_ >= args_.size(); }
  std::string_view peek() const { return args_[i_]; }
  /// Consumes the current argument if it equals `name`.
  bool flag(std::string_view name) {
    if (done() || args_[i_] != name) return false;
    ++i_;
    return true;
  }
  /// Consumes `name VALUE`; sets `missing` when the value is absent.
  bool option(std::string_view name, std::string& out) {
    if (done() || args_[i_] != name) return false;
    if (i_ + 1 >= args_.size()) {
      error_ = std::string(name) + " needs a value";
      i_ = args_.size();
      return true;
    }
    out = std::string(args_[i_ + 1]);
    i_ += 2;
    return true;
  }
  /// Consumes `name N` with N a whole number.
  bool count(std::string_view name, std::uint64_t& out) {
    std::string text;
    if (!option(name, text)) return false;
    if (!error_.empty()) return true;
    std::uint64_t v = 0;
    bool ok = !text.empty();
    for (char c : text) {
      if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) ok = false;
      if (ok) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!ok) error_ = std::string(name) + " takes a whole number, not '" + text + "'";
    out = v;
    return true;
  }
  /// Consumes a positional argument (anything not starting with '-').
  bool positional(std::string& out) {
    if (done() || (args_[i_].size() > 1 && args_[i_][0] == '-')) return false;
    if (!out.empty()) {
      error_ = "unexpected argument '" + std::string(args_[i_]) + "'";
      ++i_;
      return true;
    }
    out = std::string(args_[i_++]);
    return true;
  }
  /// Marks the current argument as unknown.
  void unknown() {
    error_ = "unknown option " + std::string(args_[i_]);
    i_ = args_.size();
  }
  const std::string& error() const { return error_; }

 private:
  std::span<const std::string_view> args_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace bpfvm::tools
