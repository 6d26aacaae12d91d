// The conformance-dialect assembler: parses lines, picks rows of isa::kOps by mnemonic, fills fields.
#include "vm/assembler.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace bpfvm::vm {
namespace {

using isa::Form;
using isa::OpInfo;
using isa::Operand;
using isa::Rule;

constexpr std::string_view kSpaces = " \t\r\v\f";

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(kSpaces);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpaces) - b + 1);
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Error fail(std::string reason) { return make_error(Errc::Malformed, std::move(reason)); }

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto head = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.'; };
  auto tail = [&](char c) { return head(c) || (c >= '0' && c <= '9'); };
  if (!head(s[0])) return false;
  for (char c : s.substr(1))
    if (!tail(c)) return false;
  return true;
}

// A number as written: sign, base and magnitude, so each field applies its own range rule.
struct Number {
  bool negative = false;
  bool hex = false;
  bool too_big = false;  // magnitude does not fit in 64 bits
  std::uint64_t magnitude = 0;
};

std::optional<Number> parse_number(std::string_view s) {
  Number n;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    n.negative = s[0] == '-';
    s = trim(s.substr(1));
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    n.hex = true;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n.magnitude, base);
  if (end != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) n.too_big = true;
  else if (ec != std::errc{}) return std::nullopt;
  return n;
}

// Signed value in [-2^(bits-1), 2^(bits-1)), or nullopt.
std::optional<std::int64_t> signed_value(const Number& n, int bits) {
  const std::uint64_t limit = std::uint64_t{1} << (bits - 1);
  if (n.too_big || n.magnitude > (n.negative ? limit : limit - 1)) return std::nullopt;
  return n.negative ? -static_cast<std::int64_t>(n.magnitude - 1) - 1 : static_cast<std::int64_t>(n.magnitude);
}

// 32-bit immediate: decimal must be a signed 32-bit value; unsigned hex up to 0xffffffff is a bit
// pattern (the suite writes `mov32 %r0, 0xffffffff`).
Result<std::int32_t> parse_imm32(std::string_view s) {
  const auto n = parse_number(s);
  if (!n) return fail("expected an immediate, got " + quote(s));
  if (n->hex && !n->negative && !n->too_big && n->magnitude <= 0xffffffffu)
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(n->magnitude));
  const auto v = signed_value(*n, 32);
  if (!v) return fail("immediate " + quote(s) + " does not fit in 32 bits");
  return static_cast<std::int32_t>(*v);
}

// lddw immediate: any 64-bit pattern, signed or unsigned.
Result<std::uint64_t> parse_imm64(std::string_view s) {
  const auto n = parse_number(s);
  if (!n) return fail("expected an immediate, got " + quote(s));
  if (n->too_big || (n->negative && n->magnitude > (std::uint64_t{1} << 63)))
    return fail("immediate " + quote(s) + " does not fit in 64 bits");
  return n->negative ? std::uint64_t{0} - n->magnitude : n->magnitude;
}

Result<std::uint8_t> parse_reg(std::string_view s) {
  if (s.size() < 3 || s[0] != '%' || s[1] != 'r') return fail("expected a register %r0-%r10, got " + quote(s));
  unsigned v = 0;
  const auto digits = s.substr(2);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size() || v >= unsigned(isa::kNumRegs))
    return fail("invalid register " + quote(s) + " (registers are %r0-%r10)");
  return static_cast<std::uint8_t>(v);
}

struct MemOperand {
  std::uint8_t reg = 0;
  std::int16_t off = 0;
};

// `[%rN]`, `[%rN+off]` or `[%rN-off]` with a signed 16-bit offset.
Result<MemOperand> parse_mem(std::string_view s) {
  const std::string expected = "expected a memory operand [%rN+off], got " + quote(s);
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return fail(expected);
  const auto inner = trim(s.substr(1, s.size() - 2));
  const auto sign = inner.find_first_of("+-");
  auto reg = parse_reg(trim(inner.substr(0, sign)));
  if (!reg) return std::move(reg).error();
  MemOperand m{*reg, 0};
  if (sign == std::string_view::npos) return m;
  const auto text = inner.substr(sign);
  const auto n = parse_number(text);
  if (!n) return fail(expected);
  const auto v = signed_value(*n, 16);
  if (!v) return fail("offset " + quote(trim(text)) + " does not fit in 16 bits");
  m.off = static_cast<std::int16_t>(*v);
  return m;
}

// A jump or call target: a label, or a slot offset `+N`/`-N` relative to the next slot.
struct Target {
  std::string label;  // empty for an offset
  std::int64_t rel = 0;
};

Result<Target> parse_target(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    const auto n = parse_number(s);
    const auto v = n ? signed_value(*n, 64) : std::nullopt;
    if (!v) return fail("bad offset " + quote(s));
    return Target{{}, *v};
  }
  if (!is_identifier(s)) return fail("expected a label or +N/-N offset, got " + quote(s));
  return Target{std::string(s), 0};
}

// Which field of a slot a target is written to, and its width.
enum class TargetField : std::uint8_t { Off16, Imm32 };

bool fits(std::int64_t v, TargetField f) {
  return f == TargetField::Off16 ? v >= std::numeric_limits<std::int16_t>::min() && v <= std::numeric_limits<std::int16_t>::max()
                                 : v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
}

// Dialect spellings that are not table mnemonics: `swapN` is `bswapN` (README, byte order).
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kAliases = {{
    {"swap16", "bswap16"}, {"swap32", "bswap32"}, {"swap64", "bswap64"},
}};

std::string_view canonical(std::string_view m) {
  for (const auto& [alias, name] : kAliases)
    if (m == alias) return name;
  return m;
}

std::size_t operand_count(const OpInfo& op) {
  switch (op.form) {
    case Form::Alu: case Form::Load: case Form::LoadSx: case Form::Store: case Form::StoreReg:
    case Form::Atomic: case Form::WideImm:
      return 2;
    case Form::Jump: return 3;
    case Form::PacketLoad: return op.kind == isa::Kind::LdInd ? 2 : 1;
    case Form::AluUnary: case Form::Ja: case Form::Ja32: case Form::Call: case Form::CallLocal:
    case Form::CallReg: case Form::CallKfunc:
      return 1;
    case Form::Exit: return 0;
  }
  return 0;
}

// lddw pseudo sources whose second slot carries an immediate too (kernel: map value offset).
bool uses_high_imm(const OpInfo& op) {
  const auto src = static_cast<isa::LddwSrc>(op.src.value);
  return src == isa::LddwSrc::MapValue || src == isa::LddwSrc::MapIdxValue;
}

std::vector<std::string_view> split_operands(std::string_view rest) {
  std::vector<std::string_view> ops;
  rest = trim(rest);
  if (rest.empty()) return ops;
  std::size_t start = 0;
  while (true) {
    const auto comma = rest.find(',', start);
    ops.push_back(trim(rest.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ops;
}

// Splits off the first whitespace-delimited word.
std::pair<std::string_view, std::string_view> first_word(std::string_view s) {
  s = trim(s);
  const auto end = s.find_first_of(kSpaces);
  if (end == std::string_view::npos) return {s, {}};
  return {s.substr(0, end), trim(s.substr(end))};
}

std::optional<isa::OpId> find_row(std::function<bool(const OpInfo&)> pred) {
  for (std::size_t i = 0; i < isa::kNumOps; ++i)
    if (pred(isa::kOps[i])) return static_cast<isa::OpId>(i);
  return std::nullopt;
}

class Assembler {
 public:
  explicit Assembler(std::size_t first_line) : first_line_(first_line) {}

  Result<std::vector<Insn>> run(std::string_view text) {
    line_ = first_line_;
    for (std::size_t pos = 0; pos <= text.size(); ++line_) {
      auto nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      auto line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
      line = trim(line);
      if (line.empty()) continue;
      if (auto ok = statement(line); !ok) return at_line(line_, ok.error().reason);
    }
    for (const auto& f : fixups_)
      if (auto ok = resolve(f); !ok) return at_line(f.line, ok.error().reason);
    return std::move(insns_);
  }

 private:
  struct Fixup {
    std::size_t slot, line;
    std::string label;
    TargetField field;
  };
  struct Label {
    std::size_t slot, line;
  };

  static Error at_line(std::size_t line, const std::string& reason) {
    return fail("line " + std::to_string(line) + ": " + reason);
  }

  Result<void> statement(std::string_view line) {
    if (line.back() == ':' && is_identifier(line.substr(0, line.size() - 1))) {
      const std::string name(line.substr(0, line.size() - 1));
      const auto [it, fresh] = labels_.try_emplace(name, Label{insns_.size(), line_});
      if (!fresh) return fail("label " + quote(name) + " is already defined on line " + std::to_string(it->second.line));
      return {};
    }
    auto [word, rest] = first_word(line);
    if (word == "lock") return atomic(rest);
    std::string mnemonic(canonical(word));
    if (word == "call") {
      // `call local L` is the table's "call local"; `call %rN` is the table's "callx" (README, calls).
      const auto [next, after] = first_word(rest);
      if (next == "local" || next == "kfunc") {  // `call kfunc ID`: BPF_PSEUDO_KFUNC_CALL, imm = BTF id
        mnemonic = "call " + std::string(next);
        rest = after;
      } else if (!rest.empty() && rest[0] == '%') {
        mnemonic = "callx";
      }
    }
    const auto ops = split_operands(rest);
    const auto any = find_row([&](const OpInfo& r) { return r.mnemonic == mnemonic && r.form != Form::Atomic; });
    if (!any) return fail("unknown mnemonic " + quote(word));
    const OpInfo& first = isa::kOps[*any];
    const std::size_t want = operand_count(first);
    // lddw's second immediate; a kfunc call's off (the module BTF it names): `call kfunc ID, OFF`.
    const bool optional_high = (first.form == Form::WideImm && uses_high_imm(first)) || first.form == Form::CallKfunc;
    if (ops.size() != want && !(optional_high && ops.size() == want + 1)) {
      return fail(std::string(word) + " expects " + std::to_string(want) +
                  (optional_high ? " or " + std::to_string(want + 1) : std::string{}) + " operand" +
                  (want == 1 && !optional_high ? "" : "s") + ", got " + std::to_string(ops.size()));
    }
    // Rows sharing a mnemonic differ in the source operand: register or immediate.
    auto id = *any;
    if (first.form == Form::Alu || first.form == Form::Jump) {
      const Operand source = ops[1].starts_with('%') ? Operand::Reg : Operand::Imm;
      const auto row = find_row([&](const OpInfo& r) {
        return r.mnemonic == mnemonic && r.form == first.form && r.operand == source;
      });
      if (!row)
        return fail(std::string(word) + " takes " + (source == Operand::Reg ? "an immediate" : "a register") +
                    " source, got " + quote(ops[1]));
      id = *row;
    }
    return emit(isa::kOps[id], ops);
  }

  // lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rN+off], %rM
  Result<void> atomic(std::string_view rest) {
    const std::string usage = "malformed lock: expected 'lock [fetch] add|and|or|xor|xchg|cmpxchg[32] [%rN+off], %rM'";
    auto [word, after] = first_word(rest);
    std::string name;
    if (word == "fetch") {
      name = "fetch ";
      std::tie(word, after) = first_word(after);
    }
    if (word.empty()) return fail(usage);
    std::uint8_t width = 64;
    if (word.ends_with("32")) {
      width = 32;
      word.remove_suffix(2);
    }
    name += word;
    const auto id = find_row([&](const OpInfo& r) {
      return r.form == Form::Atomic && r.mnemonic == name && r.width == width;
    });
    if (!id) return fail(usage + ", got unknown operation " + quote(name));
    const auto ops = split_operands(after);
    if (ops.size() != 2)
      return fail("lock " + name + " expects 2 operands ([%rN+off], %rM), got " + std::to_string(ops.size()));
    return emit(isa::kOps[*id], ops);
  }

  // Fills the row's fields from its operands; Fixed fields come from the row itself.
  Result<void> emit(const OpInfo& op, const std::vector<std::string_view>& ops) {
    Insn insn;
    insn.code = op.code;
    std::optional<Insn> high;  // second slot of lddw
    Result<void> ok;
    switch (op.form) {
      case Form::Alu: case Form::Jump:
        ok = store(parse_reg(ops[0]), insn.dst);
        if (ok) ok = op.operand == Operand::Reg ? store(parse_reg(ops[1]), insn.src) : store(parse_imm32(ops[1]), insn.imm);
        if (ok && op.form == Form::Jump) ok = target(ops[2], TargetField::Off16, insn);
        break;
      case Form::AluUnary: case Form::CallReg:
        ok = store(parse_reg(ops[0]), insn.dst);
        break;
      case Form::Load: case Form::LoadSx:
        ok = store(parse_reg(ops[0]), insn.dst);
        if (ok) ok = store_mem(ops[1], insn.src, insn);
        break;
      case Form::Store:
        ok = store_mem(ops[0], insn.dst, insn);
        if (ok) ok = store(parse_imm32(ops[1]), insn.imm);
        break;
      case Form::StoreReg: case Form::Atomic:
        ok = store_mem(ops[0], insn.dst, insn);
        if (ok) ok = store(parse_reg(ops[1]), insn.src);
        break;
      case Form::WideImm: {
        high = Insn{};
        ok = store(parse_reg(ops[0]), insn.dst);
        const auto src = static_cast<isa::LddwSrc>(op.src.value);
        if (!ok) break;
        if (src == isa::LddwSrc::Imm64) {
          const auto imm = parse_imm64(ops[1]);
          if (!imm) return imm.error();
          insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(*imm));
          high->imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(*imm >> 32));
        } else if (src == isa::LddwSrc::Func) {
          ok = target(ops[1], TargetField::Imm32, insn);
        } else {
          ok = store(parse_imm32(ops[1]), insn.imm);
          if (ok && ops.size() > 2) ok = store(parse_imm32(ops[2]), high->imm);
        }
        break;
      }
      case Form::Ja: case Form::Ja32: case Form::CallLocal:
        ok = target(ops[0], op.form == Form::Ja ? TargetField::Off16 : TargetField::Imm32, insn);
        break;
      case Form::Call:
        ok = store(parse_imm32(ops[0]), insn.imm);
        break;
      case Form::CallKfunc:
        ok = store(parse_imm32(ops[0]), insn.imm);
        if (ok && ops.size() > 1) {
          const auto off = parse_imm32(ops[1]);
          if (off && (*off < INT16_MIN || *off > INT16_MAX)) return fail("kfunc call off " + std::to_string(*off) + " does not fit 16 bits");
          ok = store(off, insn.off);
        }
        break;
      case Form::PacketLoad:  // ldabsw IMM | ldindw %rN, IMM
        if (op.kind == isa::Kind::LdInd) {
          ok = store(parse_reg(ops[0]), insn.src);
          if (ok) ok = store(parse_imm32(ops[1]), insn.imm);
        } else {
          ok = store(parse_imm32(ops[0]), insn.imm);
        }
        break;
      case Form::Exit:
        if (!first_exit_) first_exit_ = insns_.size();
        break;
    }
    if (!ok) return ok;
    // Fields that tell rows apart (sdiv's off, movsx's width, atomic op, lddw/call source).
    if (op.dst.rule == Rule::Fixed) insn.dst = static_cast<std::uint8_t>(op.dst.value);
    if (op.src.rule == Rule::Fixed) insn.src = static_cast<std::uint8_t>(op.src.value);
    if (op.off.rule == Rule::Fixed) insn.off = static_cast<std::int16_t>(op.off.value);
    if (op.imm.rule == Rule::Fixed) insn.imm = op.imm.value;
    insns_.push_back(insn);
    if (high) insns_.push_back(*high);
    return {};
  }

  template <class T, class Field>
  static Result<void> store(const Result<T>& value, Field& out) {
    if (!value) return value.error();
    out = static_cast<Field>(*value);
    return {};
  }

  static Result<void> store_mem(std::string_view text, std::uint8_t& reg, Insn& insn) {
    const auto mem = parse_mem(text);
    if (!mem) return mem.error();
    reg = mem->reg;
    insn.off = mem->off;
    return {};
  }

  // Writes an offset target into the slot being built, or records a label for the second pass.
  Result<void> target(std::string_view text, TargetField field, Insn& insn) {
    const auto t = parse_target(text);
    if (!t) return t.error();
    if (!t->label.empty()) {
      fixups_.push_back({insns_.size(), line_, t->label, field});
      return {};
    }
    if (!fits(t->rel, field))
      return fail("offset " + quote(text) + " does not fit in " + (field == TargetField::Off16 ? "16" : "32") + " bits");
    set_target(insn, t->rel, field);
    return {};
  }

  static void set_target(Insn& insn, std::int64_t rel, TargetField field) {
    if (field == TargetField::Off16) insn.off = static_cast<std::int16_t>(rel);
    else insn.imm = static_cast<std::int32_t>(rel);
  }

  Result<void> resolve(const Fixup& f) {
    std::size_t to = 0;
    if (const auto it = labels_.find(f.label); it != labels_.end()) {
      to = it->second.slot;
    } else if (f.label == "exit" && first_exit_) {
      to = *first_exit_;  // README: `exit` names the first exit instruction unless defined
    } else {
      return fail("undefined label " + quote(f.label));
    }
    const auto rel = static_cast<std::int64_t>(to) - static_cast<std::int64_t>(f.slot) - 1;
    if (!fits(rel, f.field))
      return fail("jump to " + quote(f.label) + " does not fit in " +
                  (f.field == TargetField::Off16 ? "16 bits; use ja32" : "32 bits"));
    set_target(insns_[f.slot], rel, f.field);
    return {};
  }

  std::size_t first_line_;
  std::size_t line_ = 0;
  std::vector<Insn> insns_;
  std::map<std::string, Label, std::less<>> labels_;
  std::vector<Fixup> fixups_;
  std::optional<std::size_t> first_exit_;
};

}  // namespace

Result<std::vector<Insn>> assemble(std::string_view text, std::size_t first_line) {
  return Assembler(first_line).run(text);
}

}  // namespace bpfvm::vm
