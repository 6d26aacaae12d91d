// Generator of verifier-acceptable random ALU programs; every encoding comes from an isa::kOps row.
#include "tests/kernel/alu_program_gen.hpp"

#include <algorithm>
#include <cstdio>

#include "tests/kernel/insn_builder.hpp"

namespace bpfvm::testing {

using isa::Form;
using isa::Kind;
using isa::Operand;
using isa::Rule;

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

// Registers the generator touches: r10 is the frame pointer, a pointer the verifier tracks apart.
constexpr int kNumScalarRegs = 10;

// Values near the edges of every width and signedness, where engines disagree first.
constexpr std::uint64_t kEdgeValues64[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000,
    0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0x100000000, 0x1ffffffff, 0x7fffffffffffffff,
    0x8000000000000000, 0x8000000000000001, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffff80000000,
    0xffffffff7fffffff, 0x00000000ffff8000, 0xffffffffffff8000, 0xffffffffffffff80, 0x0123456789abcdef,
};
constexpr std::int32_t kEdgeValues32[] = {
    0, 1, -1, 2, -2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, -128, 255, 256, 0x7fff, -0x8000, 0xffff,
    0x10000, 0x7fffffff, static_cast<std::int32_t>(0x80000000), static_cast<std::int32_t>(0x80000001),
    static_cast<std::int32_t>(0xfffffffe), static_cast<std::int32_t>(0x9e3779b1),
};

std::uint64_t random_value64(SplitMix64& rng) {
  switch (rng.below(4)) {
    case 0: return kEdgeValues64[rng.below(std::size(kEdgeValues64))];
    case 1: return -kEdgeValues64[rng.below(std::size(kEdgeValues64))];
    case 2: return rng.below(64);  // small: in-range shift counts, small divisors
    default: return rng.next();
  }
}

std::int32_t random_imm(SplitMix64& rng) {
  switch (rng.below(3)) {
    case 0: return kEdgeValues32[rng.below(std::size(kEdgeValues32))];
    case 1: return static_cast<std::int32_t>(rng.below(64)) - 8;
    default: return static_cast<std::int32_t>(static_cast<std::uint32_t>(rng.next()));
  }
}

}  // namespace

std::vector<std::uint64_t> edge_values64() {
  std::vector<std::uint64_t> out;
  for (auto v : kEdgeValues64) {
    out.push_back(v);
    out.push_back(-v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::span<const std::int32_t> edge_imms() { return kEdgeValues32; }

bool kernel_accepts_imm(const isa::OpInfo& op, std::int32_t imm) {
  switch (op.kind) {
    case Kind::Lsh:
    case Kind::Rsh:
    case Kind::Arsh:
      return imm >= 0 && imm < op.width;
    case Kind::Div:
    case Kind::SDiv:
    case Kind::Mod:
    case Kind::SMod:
      return imm != 0;
    default:
      return true;
  }
}

namespace {

// One instruction before layout: jumps name their target item, not an offset.
struct Item {
  isa::OpId id = isa::kNoOp;
  int dst = 0, src = 0, off = 0;
  std::int32_t imm = 0;
  std::uint64_t imm64 = 0;  // lddw only
  std::size_t target = 0;   // jumps only: index of the item they land on
};

constexpr bool is_jump(const isa::OpInfo& op) {
  return op.form == Form::Jump || op.form == Form::Ja || op.form == Form::Ja32;
}
constexpr bool is_unconditional(const isa::OpInfo& op) { return op.form == Form::Ja || op.form == Form::Ja32; }

// The kernel refuses constant shift counts ≥ width ("invalid shift") and constant divisors of 0.
std::int32_t imm_for(const isa::OpInfo& op, SplitMix64& rng) {
  switch (op.kind) {
    case Kind::Lsh:
    case Kind::Rsh:
    case Kind::Arsh:
      return static_cast<std::int32_t>(rng.below(op.width));
    case Kind::Div:
    case Kind::SDiv:
    case Kind::Mod:
    case Kind::SMod: {
      std::int32_t v = random_imm(rng);
      return v == 0 ? -1 : v;
    }
    default:
      return random_imm(rng);
  }
}

// Fills dst/src/off/imm of a non-jump row by its field rules.
Item random_item(isa::OpId id, SplitMix64& rng) {
  const auto& op = isa::kOps[id];
  Item it;
  it.id = id;
  it.dst = static_cast<int>(rng.below(kNumScalarRegs));
  if (op.src.rule == Rule::Reg) it.src = static_cast<int>(rng.below(kNumScalarRegs));
  if (op.imm.rule == Rule::Any) it.imm = imm_for(op, rng);
  if (op.form == Form::WideImm) it.imm64 = random_value64(rng);
  return it;  // Fixed fields are filled by make_insn
}

// Statically reachable items, following fall-through and jump edges (the kernel's check_cfg).
std::vector<bool> reachable(const std::vector<Item>& items) {
  std::vector<bool> seen(items.size(), false);
  std::vector<std::size_t> work = {0};
  while (!work.empty()) {
    const std::size_t i = work.back();
    work.pop_back();
    if (i >= items.size() || seen[i]) continue;
    seen[i] = true;
    const auto& op = isa::kOps[items[i].id];
    if (is_jump(op)) work.push_back(items[i].target);
    if (!is_unconditional(op) && op.form != Form::Exit) work.push_back(i + 1);
  }
  return seen;
}

// An unconditional jump may skip code nothing else reaches, which the kernel refuses as
// "unreachable insn"; shorten the last such jump before the first dead item until none is left.
void make_all_reachable(std::vector<Item>& items) {
  for (;;) {
    const auto seen = reachable(items);
    std::size_t dead = 0;
    while (dead < items.size() && seen[dead]) ++dead;
    if (dead == items.size()) return;
    for (std::size_t i = dead; i-- > 0;) {
      if (seen[i] && is_unconditional(isa::kOps[items[i].id]) && items[i].target > dead) {
        items[i].target = i + 1;
        break;
      }
    }
  }
}

}  // namespace

std::vector<vm::Insn> generate_alu_program(SplitMix64& rng, const AluGenOptions& options,
                                           std::array<std::uint64_t, isa::kNumOps>* row_uses) {
  static constexpr auto kCandidates = [] {
    std::array<isa::OpId, isa::kNumOps> ids{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < isa::kNumOps; ++i)
      if (alu_gen_uses(isa::kOps[i]) && !is_jump(isa::kOps[i])) ids[n++] = static_cast<isa::OpId>(i);
    return std::pair{ids, n};
  }();
  static constexpr auto kJumps = [] {
    std::array<isa::OpId, isa::kNumOps> ids{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < isa::kNumOps; ++i)
      if (alu_gen_uses(isa::kOps[i]) && is_jump(isa::kOps[i])) ids[n++] = static_cast<isa::OpId>(i);
    return std::pair{ids, n};
  }();
  const isa::OpId mov64 = op_id("mov", Operand::Imm), mov32 = op_id("mov32", Operand::Imm),
                  lddw = op_id("lddw", Operand::Imm), mul = op_id("mul", Operand::Imm),
                  xor_reg = op_id("xor", Operand::Reg), exit = op_id("exit", Operand::None);

  std::vector<Item> items;
  // Every register gets a value first: the verifier refuses reads of uninitialised ones.
  for (int r = 0; r < kNumScalarRegs; ++r) {
    Item it;
    it.dst = r;
    switch (rng.below(3)) {
      case 0: it.id = mov64; it.imm = random_imm(rng); break;
      case 1: it.id = mov32; it.imm = random_imm(rng); break;
      default: it.id = lddw; it.imm64 = random_value64(rng); break;
    }
    items.push_back(it);
  }
  const std::size_t body_begin = items.size();
  const std::size_t body_len = 1 + rng.below(options.max_body_items);
  const std::size_t body_end = body_begin + body_len;  // first fold item, or the exit
  std::size_t jumps = 0;
  for (std::size_t k = 0; k < body_len; ++k) {
    if (jumps < options.max_jumps && rng.percent(options.jump_percent)) {
      const isa::OpId id = kJumps.first[rng.below(kJumps.second)];
      const auto& op = isa::kOps[id];
      Item it;
      it.id = id;
      if (op.dst.rule == Rule::Reg) it.dst = static_cast<int>(rng.below(kNumScalarRegs));
      if (op.src.rule == Rule::Reg) it.src = static_cast<int>(rng.below(kNumScalarRegs));
      if (op.form == Form::Jump && op.imm.rule == Rule::Any) it.imm = random_imm(rng);
      const std::size_t here = body_begin + k;
      it.target = here + 1 + rng.below(body_end - here);  // forward, at most to the body's end
      items.push_back(it);
      ++jumps;
    } else {
      items.push_back(random_item(kCandidates.first[rng.below(kCandidates.second)], rng));
    }
  }
  if (rng.percent(options.fold_percent)) {
    // r0 = (r0 * odd) ^ rN for every N: a bijection per step, so any register difference shows.
    for (int r = 1; r < kNumScalarRegs; ++r) {
      items.push_back(Item{.id = mul, .dst = 0, .imm = static_cast<std::int32_t>(0x9e3779b1u)});
      items.push_back(Item{.id = xor_reg, .dst = 0, .src = r});
    }
  }
  items.push_back(Item{.id = exit});
  make_all_reachable(items);

  // Layout: lddw takes two slots, so offsets are counted in slots.
  std::vector<std::size_t> slot_of(items.size() + 1, 0);
  for (std::size_t i = 0; i < items.size(); ++i)
    slot_of[i + 1] = slot_of[i] + (isa::is_wide(isa::kOps[items[i].id]) ? 2 : 1);
  std::vector<vm::Insn> out;
  out.reserve(slot_of.back());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    const auto& op = isa::kOps[it.id];
    if (row_uses) ++(*row_uses)[it.id];
    if (isa::is_wide(op)) {
      push_lddw(out, it.id, it.dst, it.imm64);
      continue;
    }
    std::int32_t off = it.off, imm = it.imm;
    if (is_jump(op)) {
      const auto rel = static_cast<std::int32_t>(slot_of[it.target]) - static_cast<std::int32_t>(slot_of[i]) - 1;
      (op.form == Form::Ja32 ? imm : off) = rel;
    }
    out.push_back(make_insn(it.id, it.dst, it.src, off, imm));
  }
  return out;
}

std::string describe_program(std::span<const vm::Insn> insns) {
  std::string text;
  bool second_slot = false;
  for (std::size_t pc = 0; pc < insns.size(); ++pc) {
    const auto& i = insns[pc];
    std::uint8_t bytes[vm::kInsnBytes];
    vm::insn_to_bytes(i, bytes);
    char line[160];
    int n = std::snprintf(line, sizeof line, "%4zu: ", pc);
    for (auto b : bytes) n += std::snprintf(line + n, sizeof line - n, "%02x", b);
    std::string mnemonic = "(lddw upper half)";
    if (!second_slot) {
      auto id = vm::decode_insn(i, static_cast<std::uint32_t>(pc));
      mnemonic = id ? std::string(isa::kOps[*id].mnemonic) : "<" + id.error().reason + ">";
      second_slot = id && isa::is_wide(isa::kOps[*id]);
    } else {
      second_slot = false;
    }
    std::snprintf(line + n, sizeof line - n, "  %-10s dst=r%u src=r%u off=%d imm=%d (0x%x)\n", mnemonic.c_str(),
                  unsigned(i.dst), unsigned(i.src), int(i.off), int(i.imm), unsigned(i.imm));
    text += line;
  }
  return text;
}

std::string program_hex(std::span<const vm::Insn> insns) {
  std::string hex;
  for (auto byte : vm::encode_program(insns)) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", byte);
    hex += b;
  }
  return hex;
}

}  // namespace bpfvm::testing
