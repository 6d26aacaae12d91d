// Property: parsing of the conditions `bpfvm fuzz --property` checks after every run.
#include <cctype>
#include <charconv>

#include "bpfvm/fuzz.hpp"

namespace bpfvm::fuzz {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
  s = trim(s);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

Result<Property> parse_property(std::string_view text) {
  Property p;
  p.text = std::string(trim(text));
  auto bad = [&](const std::string& why) {
    return make_error(Errc::InvalidArgument, "property '" + p.text + "': " + why +
                                                 " (want 'retval OP N', 'MAP[KEY] OP N' or 'MAP[KEY] absent')");
  };
  std::string_view s = p.text;
  // The subject: `retval` or `MAP[KEY]`.
  std::string_view rest;
  if (s.starts_with("retval")) {
    p.subject = Property::Subject::Retval;
    rest = s.substr(6);
  } else {
    const auto open = s.find('[');
    const auto close = s.find(']');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open || open == 0)
      return bad("no subject");
    p.map = std::string(trim(s.substr(0, open)));
    auto key = parse_number(s.substr(open + 1, close - open - 1));
    if (!key) return bad("the key is not a number");
    p.key = *key;
    p.subject = Property::Subject::MapValue;
    rest = s.substr(close + 1);
  }
  rest = trim(rest);
  if (p.subject != Property::Subject::Retval && rest == "absent") {
    p.subject = Property::Subject::MapAbsent;
    return p;
  }
  static constexpr std::pair<std::string_view, Property::Op> kOps[] = {
      {"==", Property::Op::Eq}, {"!=", Property::Op::Ne}, {"<=", Property::Op::Le},
      {">=", Property::Op::Ge}, {"<", Property::Op::Lt},  {">", Property::Op::Gt},
  };
  for (const auto& [spelling, op] : kOps) {
    if (!rest.starts_with(spelling)) continue;
    auto value = parse_number(rest.substr(spelling.size()));
    if (!value) return bad("the value is not a number");
    p.op = op;
    p.value = *value;
    return p;
  }
  return bad("no operator");
}

const char* kind_name(Finding::Kind kind) noexcept {
  switch (kind) {
    case Finding::Kind::Fault: return "fault";
    case Finding::Kind::EngineMismatch: return "mismatch";
    case Finding::Kind::Property: return "property";
  }
  return "finding";
}

}  // namespace bpfvm::fuzz
