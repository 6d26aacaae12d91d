// Conformance `.data` parsing: splits a file into sections and decodes each by the README's rules.
#include "vm/data_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "vm/assembler.hpp"

namespace bpfvm::vm {
namespace {

constexpr std::string_view kSpaces = " \t\r\v\f";

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(kSpaces);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpaces) - b + 1);
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const auto b = s.find_first_not_of(kSpaces);
    if (b == std::string_view::npos) return out;
    const auto e = s.find_first_of(kSpaces, b);
    out.push_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) return out;
    s = s.substr(e);
  }
}

Error fail(std::size_t line, std::string reason) {
  return make_error(Errc::Malformed, line ? "line " + std::to_string(line) + ": " + reason : reason);
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// An unsigned 64-bit number, `0x` hex or decimal (decimal may be negative: two's complement).
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    if (negative) return std::nullopt;
    base = 16;
    s.remove_prefix(2);
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  if (negative && v > (std::uint64_t{1} << 63)) return std::nullopt;
  return negative ? std::uint64_t{0} - v : v;
}

// One or two hex digits, no prefix: a byte of `-- mem` or of a byte-per-token `-- raw` line.
std::optional<std::uint8_t> parse_hex_byte(std::string_view s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (s.empty() || s.size() > 2 || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return static_cast<std::uint8_t>(v);
}

enum class Section : std::uint8_t { None, Asm, Raw, Mem, Result, Error, C, Ignored };

struct SectionName {
  std::string_view word;
  Section section;
};
constexpr std::array<SectionName, 7> kSections = {{
    {"asm", Section::Asm}, {"raw", Section::Raw}, {"mem", Section::Mem}, {"result", Section::Result},
    {"error", Section::Error}, {"c", Section::C},
    {"no", Section::Ignored},  // `-- no register offset`: legacy uBPF marker, ignored with its body
}};

struct Line {
  std::size_t number;
  std::string_view text;  // comment removed, except in `-- c`
};

// `-- raw`: a line of exactly 8 tokens of at most two hex digits is one slot in memory order (negative/unused-*);
// otherwise each token is one slot written as a little-endian 64-bit integer (tests/lddw.data).
Result<std::vector<Insn>> parse_raw(const std::vector<Line>& lines) {
  std::vector<Insn> insns;
  for (const auto& line : lines) {
    const auto toks = tokens(line.text);
    const bool byte_line = toks.size() == kInsnBytes &&
                           std::all_of(toks.begin(), toks.end(), [](auto t) { return t.size() <= 2; });
    if (byte_line) {
      std::array<std::uint8_t, kInsnBytes> bytes{};
      for (std::size_t i = 0; i < kInsnBytes; ++i) {
        const auto b = parse_hex_byte(toks[i]);
        if (!b) return fail(line.number, "bad raw byte " + quote(toks[i]));
        bytes[i] = *b;
      }
      insns.push_back(insn_from_bytes(bytes));
      continue;
    }
    for (auto t : toks) {
      const auto word = parse_u64(t);
      if (!word) return fail(line.number, "bad raw instruction word " + quote(t));
      std::array<std::uint8_t, kInsnBytes> bytes{};
      for (std::size_t i = 0; i < kInsnBytes; ++i) bytes[i] = static_cast<std::uint8_t>(*word >> (8 * i));
      insns.push_back(insn_from_bytes(bytes));
    }
  }
  return insns;
}

Result<std::vector<std::uint8_t>> parse_mem(const std::vector<Line>& lines) {
  std::vector<std::uint8_t> mem;
  for (const auto& line : lines)
    for (auto t : tokens(line.text)) {
      const auto b = parse_hex_byte(t);
      if (!b) return fail(line.number, "bad mem byte " + quote(t) + " (expected two hex digits)");
      mem.push_back(*b);
    }
  return mem;
}

Result<std::uint64_t> parse_result(const std::vector<Line>& lines, std::size_t header_line) {
  std::optional<std::uint64_t> value;
  for (const auto& line : lines)
    for (auto t : tokens(line.text)) {
      if (value) return fail(line.number, "result must be a single number, found another " + quote(t));
      value = parse_u64(t);
      if (!value) return fail(line.number, "bad result " + quote(t) + " (expected 0x hex or decimal, 64 bits)");
    }
  if (!value) return fail(header_line, "empty result section");
  return *value;
}

std::string join(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& line : lines) {
    out += line.text;
    out += '\n';
  }
  return out;
}

}  // namespace

Result<DataFile> parse_data_file(std::string_view text) {
  struct Body {
    std::size_t header = 0;  // line of `-- name`, 0 = section absent
    std::vector<Line> lines;
  };
  std::array<Body, 8> bodies;  // indexed by Section
  Section current = Section::None;
  std::size_t number = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const auto full = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++number;
    const auto stripped = full.substr(0, full.find('#'));  // README: `#` starts a comment anywhere
    const auto trimmed = trim(stripped);
    if (trimmed.starts_with("--")) {
      const auto name = trim(trimmed.substr(2));
      const auto word = name.substr(0, name.find_first_of(kSpaces));
      current = Section::None;
      for (const auto& s : kSections)
        if (s.word == word) current = s.section;
      if (current == Section::None) return fail(number, "unknown section " + quote(name));
      auto& body = bodies[static_cast<std::size_t>(current)];
      if (body.header && current != Section::Ignored)
        return fail(number, "duplicate section " + quote(word) + " (first on line " + std::to_string(body.header) + ")");
      body.header = number;
      continue;
    }
    if (current == Section::C) {
      bodies[static_cast<std::size_t>(current)].lines.push_back({number, full});
      continue;
    }
    if (current == Section::None) {
      if (!trimmed.empty()) return fail(number, "text before the first section: " + quote(trimmed));
      continue;
    }
    bodies[static_cast<std::size_t>(current)].lines.push_back({number, stripped});
  }
  auto body = [&](Section s) -> const Body& { return bodies[static_cast<std::size_t>(s)]; };

  DataFile file;
  bool has_code = false;
  if (const auto& b = body(Section::Asm); b.header) {
    file.asm_text = join(b.lines);
    file.asm_first_line = b.header + 1;
    for (const auto& line : b.lines) has_code = has_code || !trim(line.text).empty();
  }
  if (const auto& b = body(Section::Raw); b.header) {
    auto raw = parse_raw(b.lines);
    if (!raw) return std::move(raw).error();
    has_code = has_code || !raw->empty();
    file.raw = std::move(*raw);
  }
  if (const auto& b = body(Section::Mem); b.header) {
    auto mem = parse_mem(b.lines);
    if (!mem) return std::move(mem).error();
    file.mem = std::move(*mem);
  }
  if (const auto& b = body(Section::Result); b.header) {
    auto result = parse_result(b.lines, b.header);
    if (!result) return std::move(result).error();
    file.result = *result;
  }
  if (const auto& b = body(Section::Error); b.header) {
    // README: the last non-empty line is the message; an empty section only demands rejection.
    file.error = std::string{};
    for (const auto& line : b.lines)
      if (const auto t = trim(line.text); !t.empty()) file.error = std::string(t);
  }
  if (const auto& b = body(Section::C); b.header) file.c_source = join(b.lines);

  if (!file.result && !file.error) return fail(0, "no '-- result' or '-- error' section");
  if (!has_code) return fail(0, "no code: needs a non-empty '-- asm' or '-- raw' section");
  return file;
}

Result<DataFile> read_data_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::Io, path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::Io, path.string() + ": read failed");
  auto file = parse_data_file(text.str());
  if (!file) {
    auto error = std::move(file).error();
    error.reason = path.string() + ": " + error.reason;
    return error;
  }
  return file;
}

Result<std::vector<Insn>> program_of(const DataFile& file) {
  if (file.raw) return *file.raw;
  if (file.asm_text) return assemble(*file.asm_text, file.asm_first_line);
  return make_error(Errc::InvalidArgument, "test file has no program");
}

}  // namespace bpfvm::vm
