// The ctx-access rewrite: finds context loads by dataflow and widens the pointer-field loads.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "helpers/contexts.hpp"

namespace bpfvm::helpers {
namespace {

using isa::Form;
using isa::Kind;

// Per register / stack slot: definitely not the context, the unmodified context, or anything else
// that may be the context (merged paths, ctx + offset) — loads through the last are refused.
enum class Val : std::uint8_t { NotCtx, Ctx, Mixed };

constexpr std::size_t kSlots = isa::kStackBytes / 8;

struct State {
  std::array<Val, isa::kNumRegs> reg{};
  std::array<Val, kSlots> slot{};  // 8-byte stack slots of the current frame, [r10 - 512, r10)

  bool join(const State& o) {  // returns true if this changed
    bool changed = false;
    auto j = [&](Val& a, Val b) {
      if (a != b && a != Val::Mixed) {
        a = Val::Mixed;
        changed = true;
      }
    };
    for (std::size_t i = 0; i < reg.size(); ++i) j(reg[i], o.reg[i]);
    for (std::size_t i = 0; i < slot.size(); ++i) j(slot[i], o.slot[i]);
    return changed;
  }
};

State fresh_frame() {
  State s;
  s.reg.fill(Val::NotCtx);
  s.slot.fill(Val::NotCtx);
  return s;
}

// Stack slot index of [r10 + off, +size) when it is one aligned 8-byte slot; nullopt otherwise.
std::optional<std::size_t> slot_of(std::int16_t off, unsigned size_bits) {
  if (off >= 0 || off < -static_cast<int>(isa::kStackBytes)) return std::nullopt;
  const int from_bottom = static_cast<int>(isa::kStackBytes) + off;
  if (size_bits != 64 || from_bottom % 8 != 0) return std::nullopt;
  return static_cast<std::size_t>(from_bottom / 8);
}

void clobber_stack(State& s, std::int16_t off, unsigned size_bits) {
  const int lo = static_cast<int>(isa::kStackBytes) + off;
  const int hi = lo + static_cast<int>(size_bits / 8);
  for (int b = lo; b < hi; ++b)
    if (b >= 0 && b < static_cast<int>(isa::kStackBytes)) s.slot[static_cast<std::size_t>(b / 8)] = Val::NotCtx;
}

// A context field whose host layout differs: uapi offset -> XdpCtx/SkbCtx offset.
struct PtrField {
  std::uint32_t uapi_off;
  std::uint32_t host_off;
  const char* name;
};

struct Layout {
  const char* ctx_name;
  std::uint32_t uapi_size;
  std::vector<PtrField> widened;       // u32 pointer fields loaded as u64
  std::vector<PtrField> moved;         // u64 pointer fields read at another host offset
  std::vector<PtrField> unsupported;   // pointer fields bpfvm cannot provide (8-byte md_ptr)
  bool pointers_forbidden = false;     // socket filters may not read data/data_end
};

Layout layout_of(ProgType type) {
  switch (type) {
    case ProgType::Xdp:
      return {"xdp_md", sizeof(xdp_md),
              {{offsetof(xdp_md, data), offsetof(XdpCtx, data), "data"},
               {offsetof(xdp_md, data_end), offsetof(XdpCtx, data_end), "data_end"},
               {offsetof(xdp_md, data_meta), offsetof(XdpCtx, data_meta), "data_meta"}},
              {},
              {},
              false};
    case ProgType::SocketFilter:
    case ProgType::SchedCls:
    case ProgType::SchedAct:
    case ProgType::CgroupSkb:
    case ProgType::LwtIn:
    case ProgType::LwtOut:
    case ProgType::LwtXmit:
    case ProgType::SkSkb:
      return {"__sk_buff", sizeof(__sk_buff),
              {{offsetof(__sk_buff, data), offsetof(SkbCtx, data), "data"},
               {offsetof(__sk_buff, data_end), offsetof(SkbCtx, data_end), "data_end"},
               {offsetof(__sk_buff, data_meta), offsetof(SkbCtx, data_meta), "data_meta"}},
              {{offsetof(__sk_buff, sk), offsetof(SkbCtx, sk), "sk"}},
              {{offsetof(__sk_buff, flow_keys), 0, "flow_keys"}},
              type == ProgType::SocketFilter};
    case ProgType::FlowDissector:  // flow_keys is read in place (8 bytes); the verifier allows no other field
      return {"__sk_buff", sizeof(__sk_buff),
              {{offsetof(__sk_buff, data), offsetof(SkbCtx, data), "data"},
               {offsetof(__sk_buff, data_end), offsetof(SkbCtx, data_end), "data_end"}},
              {},
              {},
              false};
    case ProgType::SkLookup:  // struct bpf_sk_lookup: scalars and the 8-byte sk, read in place (but below)
      return {"bpf_sk_lookup", sizeof(bpf_sk_lookup), {}, {}, {}, false};
    case ProgType::Kprobe:
    case ProgType::Tracepoint:
    case ProgType::RawTracepoint:
    case ProgType::Syscall:
    case ProgType::SkReuseport:  // sk_reuseport_md: 8-byte pointers and u32 fields, read in place
    case ProgType::SkMsg:  // sk_msg_md's data, data_end and sk are 8-byte pointers, read in place
      return {"", 0, {}, {}, {}, false};
  }
  return {"", 0, {}, {}, {}, false};
}

bool overlaps(std::int64_t off, unsigned bytes, std::uint32_t field_off, unsigned field_bytes) {
  return off < static_cast<std::int64_t>(field_off + field_bytes) &&
         static_cast<std::int64_t>(field_off) < off + bytes;
}

}  // namespace

Result<vm::Program> rewrite_ctx_access(const vm::Program& program, ProgType type,
                                       std::span<const std::uint8_t> ctx_accesses) {
  const Layout layout = layout_of(type);
  if (layout.uapi_size == 0) return program;
  const std::size_t n = program.size();
  const bool verified = !ctx_accesses.empty();
  if (verified && ctx_accesses.size() != n)
    return make_error(Errc::InvalidArgument, "ctx rewrite: the verifier's facts describe another program");

  // Forward dataflow to a fixpoint. Entry: r1 = ctx. lddw_func targets (callbacks) start fresh.
  std::vector<std::optional<State>> in(n);
  std::vector<std::size_t> work;
  auto flow = [&](std::size_t to, const State& s) {
    if (to >= n) return;
    if (!in[to]) {
      in[to] = s;
      work.push_back(to);
    } else if (in[to]->join(s)) {
      work.push_back(to);
    }
  };
  State entry = fresh_frame();
  entry.reg[1] = Val::Ctx;
  if (!verified) flow(0, entry);
  std::optional<std::size_t> spilled_elsewhere;  // unverified: a store of the context not through r10
  for (std::size_t pc = 0; pc < n && !verified; ++pc)
    if (program.ops[pc] != isa::kNoOp && program.op(pc).form == Form::WideImm &&
        static_cast<isa::LddwSrc>(program.insns[pc].src) == isa::LddwSrc::Func)
      flow(static_cast<std::size_t>(static_cast<std::int64_t>(pc) + 1 + program.insns[pc].imm), fresh_frame());

  while (!work.empty()) {
    const std::size_t pc = work.back();
    work.pop_back();
    State s = *in[pc];
    const auto& insn = program.insns[pc];
    const auto& op = program.op(pc);
    switch (op.form) {
      case Form::Alu:
        if (op.kind == Kind::Mov && op.width == 64 && op.operand == isa::Operand::Reg)
          s.reg[insn.dst] = s.reg[insn.src];
        else if (op.kind == Kind::Mov)
          s.reg[insn.dst] = Val::NotCtx;
        else if (s.reg[insn.dst] != Val::NotCtx || (op.operand == isa::Operand::Reg && s.reg[insn.src] != Val::NotCtx))
          s.reg[insn.dst] = Val::Mixed;  // arithmetic on the context pointer
        else
          s.reg[insn.dst] = Val::NotCtx;
        flow(pc + 1, s);
        break;
      case Form::AluUnary:
        s.reg[insn.dst] = s.reg[insn.dst] == Val::NotCtx ? Val::NotCtx : Val::Mixed;
        flow(pc + 1, s);
        break;
      case Form::Load:
      case Form::LoadSx: {
        auto slot = insn.src == isa::kFramePointer && op.form == Form::Load ? slot_of(insn.off, op.width) : std::nullopt;
        s.reg[insn.dst] = slot ? s.slot[*slot] : Val::NotCtx;
        flow(pc + 1, s);
        break;
      }
      case Form::Store:
      case Form::StoreReg:
        if (insn.dst == isa::kFramePointer) {
          auto slot = slot_of(insn.off, op.width);
          if (slot && op.form == Form::StoreReg) s.slot[*slot] = s.reg[insn.src];
          else clobber_stack(s, insn.off, op.width);
        } else if (op.form == Form::StoreReg && s.reg[insn.src] != Val::NotCtx) {
          // The context stored through another pointer (maybe the stack) could come back through r10:
          // only the verifier's types can follow it.
          spilled_elsewhere = pc;
        }
        flow(pc + 1, s);
        break;
      case Form::Atomic:
        if (insn.dst == isa::kFramePointer) clobber_stack(s, insn.off, op.width);
        if (op.kind == Kind::CmpXchg) s.reg[0] = Val::NotCtx;
        else if (op.kind == Kind::Xchg || (insn.imm & isa::enc::kFetch)) s.reg[insn.src] = Val::NotCtx;
        flow(pc + 1, s);
        break;
      case Form::WideImm:
        s.reg[insn.dst] = Val::NotCtx;
        flow(pc + 2, s);
        break;
      case Form::Jump:
        flow(pc + 1, s);
        [[fallthrough]];
      case Form::Ja:
      case Form::Ja32:
        flow(static_cast<std::size_t>(vm::branch_target(insn, op, pc)), s);
        break;
      case Form::Call: case Form::CallKfunc:
      case Form::CallReg:
      case Form::PacketLoad:  // r0 = packet bytes; r1-r5 clobbered, as for a helper call
        for (int r = 0; r <= 5; ++r) s.reg[r] = Val::NotCtx;
        flow(pc + 1, s);
        break;
      case Form::CallLocal: {
        State callee = fresh_frame();
        for (int r = 1; r <= 5; ++r) callee.reg[r] = s.reg[r];
        flow(static_cast<std::size_t>(vm::branch_target(insn, op, pc)), callee);
        for (int r = 0; r <= 5; ++r) s.reg[r] = Val::NotCtx;
        flow(pc + 1, s);
        break;
      }
      case Form::Exit:
        break;
    }
  }

  if (spilled_elsewhere)
    return make_error(Errc::Unsupported,
                      "the context is stored through a pointer other than r10; rewriting its accesses needs the "
                      "verifier's facts (load the program with verification on)",
                      static_cast<std::uint32_t>(*spilled_elsewhere));
  // Check and rewrite every access whose base may be the context.
  std::vector<vm::Insn> out = program.insns;
  for (std::size_t pc = 0; pc < n; ++pc) {
    if (program.ops[pc] == isa::kNoOp || (!verified && !in[pc])) continue;
    const auto& insn = program.insns[pc];
    const auto& op = program.op(pc);
    const bool load = op.form == Form::Load || op.form == Form::LoadSx;
    const bool store = op.form == Form::Store || op.form == Form::StoreReg || op.form == Form::Atomic;
    if (!load && !store) continue;
    const std::uint8_t base = load ? insn.src : insn.dst;
    const Val v = verified ? (ctx_accesses[pc] ? Val::Ctx : Val::NotCtx) : in[pc]->reg[base];
    if (v == Val::NotCtx) continue;
    const auto at = static_cast<std::uint32_t>(pc);
    const std::string where = std::string(layout.ctx_name) + " access at offset " + std::to_string(insn.off);
    if (v == Val::Mixed)
      return make_error(Errc::Unsupported,
                        "r" + std::to_string(base) + " may or may not be the (unmodified) context here; " +
                            "ctx rewrite needs verifier facts (not supported yet)", at);
    const unsigned bytes = op.width / 8u;
    if (insn.off < 0 || static_cast<std::uint32_t>(insn.off) + bytes > layout.uapi_size)
      return make_error(Errc::Rejected, "invalid bpf_context " + where, at);
    for (const auto& f : layout.unsupported)
      if (overlaps(insn.off, bytes, f.uapi_off, 8))
        return make_error(Errc::Unsupported, std::string(layout.ctx_name) + "." + f.name + " is not supported yet", at);
    for (const auto& f : layout.moved) {
      if (!overlaps(insn.off, bytes, f.uapi_off, 8)) continue;
      if (store || op.form != Form::Load || bytes != 8 || static_cast<std::uint32_t>(insn.off) != f.uapi_off)
        return make_error(Errc::Rejected, "invalid bpf_context " + where + " (" + f.name + " needs an 8-byte load)", at);
      out[pc].off = static_cast<std::int16_t>(f.host_off);
    }
    // sk_lookup's family, protocol and local_port are u16 in the kernel's struct bpf_sk_lookup_kern, and
    // its narrow-load conversion shifts only loads narrower than the kernel's field: a 2-byte load of
    // the upper half reads the whole u16 there (measured on 6.18; tests/runtime sk_lookup).
    if (type == ProgType::SkLookup && op.form == Form::Load && bytes == 2)
      for (const std::uint32_t f : {offsetof(bpf_sk_lookup, family), offsetof(bpf_sk_lookup, protocol),
                                    offsetof(bpf_sk_lookup, local_port)})
        if (static_cast<std::uint32_t>(insn.off) == f + 2) out[pc].off = static_cast<std::int16_t>(f);
    for (const auto& f : layout.widened) {
      if (!overlaps(insn.off, bytes, f.uapi_off, 4)) continue;
      if (layout.pointers_forbidden)
        return make_error(Errc::Rejected, "invalid bpf_context " + where + " (" + f.name + " is not readable here)", at);
      if (store || op.form != Form::Load || bytes != 4 || static_cast<std::uint32_t>(insn.off) != f.uapi_off)
        return make_error(Errc::Rejected, "invalid bpf_context " + where + " (" + f.name + " needs a 4-byte load)", at);
      out[pc].code = static_cast<std::uint8_t>(isa::enc::kLdx | isa::enc::kModeMem | isa::enc::kSizeDW);
      out[pc].off = static_cast<std::int16_t>(f.host_off);
    }
  }
  auto rewritten = vm::decode_program(std::move(out), program.name);
  if (rewritten) rewritten->kfuncs = program.kfuncs;  // same slots, same calls
  return rewritten;
}

}  // namespace bpfvm::helpers
