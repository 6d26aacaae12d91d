// Memory safety checks shared by loads, stores, atomics and helper arguments.
#include "verifier/map_ptr_access.hpp"
#include "verifier/checks.hpp"

#include <linux/bpf.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "verifier/btf_pointer.hpp"
#include "verifier/socket_fields.hpp"

namespace bpfvm::verifier {

namespace {

constexpr std::uint32_t kWronlyProg = 1u << 8;  // BPF_F_WRONLY_PROG
constexpr std::int64_t kMaxOffset = std::int64_t{1} << 29;  // BPF_MAX_VAR_OFF

// Unknown bytes of the given width, zero-extended.
// The kernel's bpf_map_direct_read: a 1, 2, 4 or 8-byte load at a constant offset of a frozen
// read-only array's value reads the byte contents (zero-extended; a sign-extending load extends it after).
std::optional<std::uint64_t> frozen_constant(const MapInfo& map, std::int64_t at, int size) {
  const auto* value = map.readonly_value();
  if (value == nullptr) return std::nullopt;
  if (size != 1 && size != 2 && size != 4 && size != 8) return std::nullopt;
  const auto& bytes = *value;
  if (at < 0 || static_cast<std::uint64_t>(at) + static_cast<std::uint64_t>(size) > bytes.size()) return std::nullopt;
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.data() + at, static_cast<std::size_t>(size));  // guest and host are little-endian
  return v;
}

RegValue unknown_of_size(int size) {
  if (size >= 8) return RegValue::unknown();
  return RegValue::scalar(ScalarDomain::unsigned_range(0, (std::uint64_t{1} << (8 * size)) - 1));
}

struct Range {
  std::int64_t lo, hi;  // first byte of the access: lowest and highest possible
  bool bounded;
};

Range access_range(const RegValue& p, std::int32_t off) {
  const std::int64_t smin = p.value.smin(), smax = p.value.smax();
  if (smin < -kMaxOffset || smax > kMaxOffset) return {smin, smax, false};
  return {smin + off, smax + off, true};
}

Check bounds(std::uint32_t pc, ViolationDetail d, Range r, std::int64_t size, std::int64_t limit) {
  d.off_min = r.lo;
  d.off_max = r.hi;
  d.size = size;
  d.limit = limit;
  if (!r.bounded || r.lo < 0 || r.hi + size > limit) return violation(pc, ViolationKind::OutOfBounds, d);
  return std::nullopt;
}

// Packet access: inside the length proven for constant offsets, or inside the range proven for
// the pointer's variable part.
Check packet_bounds(const State& s, std::uint32_t pc, ViolationDetail d, const RegValue& p, Range r, std::int64_t size) {
  const std::uint32_t proven = p.type == RegType::Packet ? s.packet_bytes : s.meta_bytes;
  if (r.bounded && r.lo >= 0 && p.id != 0) {
    const std::int64_t fixed = static_cast<std::int32_t>(p.aux);
    const std::int64_t n = s.packet_range(p.id);
    const std::int64_t first = fixed + (r.lo - p.value.smin());  // insn.off relative to the variable part
    if (first >= 0 && first + size <= n) return std::nullopt;
  }
  return bounds(pc, d, r, size, proven);
}

Check leak_into(std::uint32_t pc, ViolationDetail d, RegType where) {
  d.note = where == RegType::MapValue ? "the store puts a pointer into a map value"
         : where == RegType::FlowKeys ? "the store puts a pointer into the flow keys"
         : where == RegType::Packet || where == RegType::PacketMeta ? "the store puts a pointer into the packet"
                                                                    : "the store puts a pointer into memory";
  return violation(pc, ViolationKind::PointerLeak, d);
}

// The field of `fields` that lets an access of `size` bytes at offset o happen, or null.
const CtxField* permitting_field(std::span<const CtxField> fields, std::int64_t o, int size, bool write) {
  for (const auto& f : fields) {
    if (o < f.offset || o + size > std::int64_t{f.offset} + f.size_bytes) continue;
    if (f.kind != CtxFieldKind::Scalar) {
      if (write || o != f.offset || static_cast<std::uint32_t>(size) != f.size_bytes) return nullptr;
      return &f;
    }
    if (o % size != 0) return nullptr;  // context loads must be naturally aligned
    if (write && !f.writable) return nullptr;
    const bool whole = o == f.offset && static_cast<std::uint32_t>(size) == f.size_bytes;
    if (!whole && (write ? f.whole_stores : f.whole_loads)) return nullptr;
    if (!write && f.loads_at_start && o != f.offset) return nullptr;
    if (write && size < f.min_store_bytes) return nullptr;
    if (!write && size < f.min_load_bytes) return nullptr;
    return &f;
  }
  return nullptr;
}

// What a load of a pointer field yields; a maybe-null one gets its id from transfer_memory, per load.
RegValue pointer_field_value(const CtxField& field) {
  const CtxFieldKind kind = field.kind;
  switch (kind) {
    case CtxFieldKind::BtfPointer: return btf_pointer(field.btf_id);
    case CtxFieldKind::PacketData: return RegValue::pointer(RegType::Packet);
    case CtxFieldKind::PacketEnd: return RegValue::pointer(RegType::PacketEnd);
    case CtxFieldKind::PacketMeta: return RegValue::pointer(RegType::PacketMeta);
    case CtxFieldKind::Socket: return RegValue::pointer(RegType::Socket);
    case CtxFieldKind::FlowKeys: return RegValue::pointer(RegType::FlowKeys);
    case CtxFieldKind::TpBuffer: return RegValue::pointer(RegType::TpBuffer);
    case CtxFieldKind::SockCommonOrNull:
    case CtxFieldKind::SocketOrNull: {
      RegValue v = RegValue::pointer(kind == CtxFieldKind::SocketOrNull ? RegType::Socket : RegType::SockCommon);
      v.maybe_null = true;
      return v;
    }
    case CtxFieldKind::Scalar: break;
  }
  return RegValue::unknown();
}

Check ctx_access(const VerifierOptions& opts, std::uint32_t pc, ViolationDetail d, const RegValue& p, Range r, int size,
                 bool write, const RegValue* value, RegValue* loaded) {
  const auto& type = opts.program_type;
  d.off_min = r.lo;
  d.off_max = r.hi;
  d.size = size;
  d.limit = type.ctx_size_bytes;
  if (r.lo != r.hi || !r.bounded) return violation(pc, ViolationKind::VariableOffset, d);
  // The kernel's check_ptr_off_reg: only the unmodified context pointer may be dereferenced (the
  // field's offset goes in the insn). The ctx rewrite converts the insn's offset, so a field reached
  // through `ctx + n` would be converted as another field (for `ctx + 76`, data: a wild pointer).
  if (p.value.smin() != 0) {  // a single value here (r.lo == r.hi)
    d.limit = p.value.smin();
    return violation(pc, ViolationKind::ModifiedCtx, d);
  }
  if (type.ctx_size_at_run) {
    // syscall_prog_is_valid_access: any offset below U16_MAX aligned to the size; loads are numbers.
    if (r.lo < 0 || r.lo >= type.ctx_size_bytes || r.lo % size != 0) return violation(pc, ViolationKind::CtxFieldAccess, d);
    // The caller's own bytes: a privileged program may leave a pointer there, as the kernel's
    // allow_ptr_leaks lets it (the host that runs it sees the address; loads give numbers back).
    if (write && value && value->is_pointer() && opts.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
    if (loaded) *loaded = unknown_of_size(size);
    return std::nullopt;
  }
  const CtxField* f = permitting_field(type.fields, r.lo, size, write);
  if (!f) return violation(pc, ViolationKind::CtxFieldAccess, d);
  if (write && value && value->is_pointer()) return violation(pc, ViolationKind::PointerLeak, d);
  if (loaded) *loaded = f->kind == CtxFieldKind::Scalar ? unknown_of_size(size) : pointer_field_value(*f);
  return std::nullopt;
}

// The kernel's check_sock_access: loads of the struct's readable fields through a non-null socket pointer.
Check socket_access(std::uint32_t pc, ViolationDetail d, const RegValue& p, Range r, int size, bool write,
                    RegValue* loaded) {
  d.off_min = r.lo;
  d.off_max = r.hi;
  d.limit = socket_struct_bytes(p.type);
  if (p.maybe_null) return violation(pc, ViolationKind::MaybeNullAccess, d);
  if (write) return violation(pc, ViolationKind::ReadOnlyWrite, d);
  if (r.lo != r.hi || !r.bounded) return violation(pc, ViolationKind::VariableOffset, d);
  if (!permitting_field(socket_fields(p.type), r.lo, size, false)) {
    d.note = "socket";
    return violation(pc, ViolationKind::CtxFieldAccess, d);
  }
  if (loaded) *loaded = unknown_of_size(size);
  return std::nullopt;
}

Check stack_access(const VerifierOptions& opts, State& s, std::uint32_t pc, ViolationDetail d, const RegValue& p,
                   Range r, int size, bool write, const RegValue* value, RegValue* loaded, bool& reads_uninit_stack) {
  d.off_min = r.lo;
  d.off_max = r.hi;
  d.size = size;
  d.limit = StackSlots::kBytes;
  if (!r.bounded || !StackSlots::in_frame(r.lo, size) || !StackSlots::in_frame(r.hi, size))
    return violation(pc, ViolationKind::OutOfBounds, d);
  const int lo = static_cast<int>(r.lo);
  if (write) {
    // destroy_if_dynptr_stack_slot: a store may destroy a local dynptr, never a referenced one
    // (a ring buffer dynptr must be submitted or discarded first).
    if (std::as_const(s).frames[p.frame].stack.touches_referenced_dynptr(lo, static_cast<int>(r.hi - r.lo) + size)) {
      d.note = "cannot overwrite referenced dynptr";
      d.write = true;
      return violation(pc, ViolationKind::UninitStackRead, d);
    }
    StackSlots& stack = s.frames[p.frame].stack;  // this state's own copy of the frame (FrameStack)
    if (r.lo != r.hi) {
      // The kernel's check_stack_write_var_off (privileged only): any byte in the range may be
      // written, so spills there become plain data; no byte becomes initialised, since each one
      // may also be left as it was.
      if (opts.unprivileged) {
        d.note = "variable-offset stack write (unprivileged programs may not write the stack at a variable offset)";
        return violation(pc, ViolationKind::PointerLeak, d);
      }
      stack.clobber(lo, static_cast<int>(r.hi - r.lo) + size);
      return std::nullopt;
    }
    bool pointer_clobbered = false;
    stack.for_each_spill_in(lo, size, [&](const RegValue& v) { pointer_clobbered |= v.is_pointer(); });
    const bool whole_slot = size == 8 && lo % 8 == 0;
    if (opts.unprivileged && pointer_clobbered && !whole_slot) {
      d.note = "partial overwrite of a spilled pointer";
      return violation(pc, ViolationKind::PointerLeak, d);
    }
    // The kernel's check_stack_write_fixed_off: a pointer is spilled whole or not at all.
    if (value && value->is_pointer() && size != 8) return violation(pc, ViolationKind::StackSpillSize, d);
    if (value && whole_slot) {
      stack.spill(lo, *value);
    } else if (value && lo % 8 == 0 && !opts.unprivileged) {
      // A narrow scalar spill at a slot's start (privileged): the slot keeps the register, so a fill
      // no wider reads its low bytes back; the link to other copies holds only when the value fits.
      const bool fits = value->value.umax() <= (std::uint64_t{1} << (8 * size)) - 1;
      stack.spill(lo, fits ? *value : RegValue::scalar(value->value), size);
    } else if (value && value->is_scalar() && value->value.is_const() && value->value.const_value() == 0) {
      stack.write_zero_bytes(lo, size);  // the kernel's STACK_ZERO: a narrow store of 0 off a slot's start
    } else {
      stack.write_bytes(lo, size);
    }
    return std::nullopt;
  }
  const StackSlots& stack = std::as_const(s).frames[p.frame].stack;  // a read keeps the frame shared
  const int hi = static_cast<int>(r.hi);
  if (stack.touches_dynptr(lo, hi - lo + size)) {
    d.note = "the bytes are a bpf_dynptr's (only the dynptr helpers use them)";
    return violation(pc, ViolationKind::UninitStackRead, d);
  }
  if (stack.touches_iter(lo, hi - lo + size)) {
    d.note = "the bytes are an iterator's (only its kfuncs use them)";
    return violation(pc, ViolationKind::UninitStackRead, d);
  }
  if (!stack.initialised(lo, hi - lo + size)) {
    if (opts.unprivileged) return violation(pc, ViolationKind::UninitStackRead, d);
    reads_uninit_stack = true;  // the kernel's allow_uninit_stack: unknown bytes (engines zero the stack)
    s.frames[p.frame].stack.touch(lo);  // copies a shared frame: only reads of uninitialised bytes
  }
  if (r.lo == r.hi) {
    if (const RegValue* spilled = stack.spilled(lo)) {
      // The kernel's check_stack_read_fixed_off: a spilled pointer is filled only whole; a scalar
      // spill read from the slot's start no wider than it gives its low bytes, a read of spilled
      // bytes of a zero gives zero, anything else unknown bytes.
      const int spill_bytes = stack.spill_bytes(lo);
      const int at = lo - (StackSlots::slot_of(lo) * 8 - StackSlots::kBytes);
      if (size == 8 && spill_bytes == 8) {
        if (loaded) *loaded = *spilled;
        return std::nullopt;
      }
      if (spilled->is_pointer()) return violation(pc, ViolationKind::StackSpillSize, d);
      if (loaded && at == 0 && size <= spill_bytes) {
        const bool fits = spilled->value.umax() <= (std::uint64_t{1} << (8 * size)) - 1;
        *loaded = fits ? *spilled : RegValue::scalar(spilled->value.truncate(static_cast<unsigned>(8 * size)));
        return std::nullopt;
      }
      if (loaded && at + size <= spill_bytes && spilled->value.is_const() && spilled->value.const_value() == 0) {
        *loaded = RegValue::scalar(ScalarDomain::constant(0));
        return std::nullopt;
      }
    }
  }
  if (loaded && r.lo == r.hi && stack.zero(lo, size)) {
    *loaded = RegValue::scalar(ScalarDomain::constant(0));  // every byte read holds a stored 0 (STACK_ZERO)
    return std::nullopt;
  }
  bool pointer_read = false;
  stack.for_each_spill_in(lo, hi - lo + size, [&](const RegValue& v) { pointer_read |= v.is_pointer(); });
  if (pointer_read && opts.unprivileged) {
    d.note = "partial read of a spilled pointer";
    return violation(pc, ViolationKind::PointerLeak, d);
  }
  if (loaded) *loaded = unknown_of_size(size);
  return std::nullopt;
}

// The kernel's check_map_access: a value's struct bpf_spin_lock and struct bpf_timer are reachable only
// through their helpers, never by a load, store or helper memory argument (checked after bounds()).
Check special_fields_untouched(std::uint32_t pc, ViolationDetail d, const MapInfo& map, const Range& range, std::int64_t size) {
  constexpr std::int64_t kLockBytes = 4, kTimerBytes = 16;  // sizeof(struct bpf_spin_lock), sizeof(struct bpf_timer)
  auto overlaps = [&](std::int32_t off, std::int64_t bytes) { return off >= 0 && range.hi + size > off && range.lo < off + bytes; };
  if (overlaps(map.spin_lock_off, kLockBytes)) {
    d.note = "bpf_spin_lock cannot be accessed directly by load/store";
    return violation(pc, ViolationKind::SpinLock, d);
  }
  if (overlaps(map.timer_off, kTimerBytes)) {
    d.note = "bpf_timer cannot be accessed directly by load/store";
    return violation(pc, ViolationKind::Timer, d);
  }
  return std::nullopt;
}

}  // namespace

std::optional<MapInfo> map_info_of(const VerifierOptions& options, std::uint32_t index) {
  if (index & kInnerMapBit) {
    const auto outer = map_info_of(options, index & ~kInnerMapBit);
    if (!outer || !outer->inner) return std::nullopt;
    return *outer->inner;
  }
  if (options.map_info) return options.map_info(index);
  if (index < options.maps.size()) return options.maps[index];
  return std::nullopt;
}

Check check_reg_init(const State& s, int r, std::uint32_t pc) {
  if (!s.reg(r).is_init()) {
    ViolationDetail d;
    d.reg = r;
    return violation(pc, ViolationKind::UninitRegister, d);
  }
  return std::nullopt;
}

Check check_mem_access(const VerifierOptions& opts, State& s, std::uint32_t pc, int r, std::int32_t off, int size,
                       bool write, const RegValue* value, RegValue* loaded, bool& reads_uninit_stack) {
  if (auto c = check_reg_init(s, r, pc)) return c;
  const RegValue p = s.reg(r);
  ViolationDetail d;
  d.reg = r;
  d.size = size;
  d.write = write;
  const Range range = access_range(p, off);
  const bool stores_pointer = write && value && value->is_pointer();
  switch (p.type) {
    case RegType::NotInit:
    case RegType::Scalar:
    case RegType::PacketEnd:
    case RegType::FuncPtr:
    case RegType::Dynptr:  // the kernel's check_mem_access has no case for CONST_PTR_TO_DYNPTR
      return violation(pc, ViolationKind::InvalidMemAccess, d);
    case RegType::Ctx:
      return ctx_access(opts, pc, d, p, range, size, write, value, loaded);
    case RegType::MapPtr:  // no pointer arithmetic on a map pointer: the insn's offset is the offset
      return map_ptr_access(opts, pc, d, p, off, size, write, loaded);
    case RegType::SockCommon:
    case RegType::Socket:
    case RegType::TcpSock:
      return socket_access(pc, d, p, range, size, write, loaded);
    case RegType::Stack: {
      // The kernel's check_ptr_alignment is strict for the stack whatever the program's flags: its
      // spill tracking assumes aligned accesses. Every possible offset must be a multiple of the size.
      const ScalarDomain at = p.value.add(ScalarDomain::constant(static_cast<std::uint64_t>(std::int64_t{off})));
      const std::uint64_t low = static_cast<std::uint64_t>(size) - 1;
      if ((at.bits().mask() & low) != 0 || (at.bits().value() & low) != 0) {
        d.off_min = range.lo;
        d.off_max = range.hi;
        return violation(pc, ViolationKind::MisalignedStack, d);
      }
      return stack_access(opts, s, pc, d, p, range, size, write, value, loaded, reads_uninit_stack);
    }
    case RegType::BtfId:
      return btf_pointer_access(opts, pc, d, p, range.lo, range.hi, range.bounded, size, write, loaded);
    case RegType::MapValue: {
      if (p.maybe_null) return violation(pc, ViolationKind::MaybeNullAccess, d);
      const auto map = map_info_of(opts, p.aux);
      if (!map) return violation(pc, ViolationKind::UnknownMap, d);
      if (auto c = bounds(pc, d, range, size, map->value_size)) return c;
      if (auto c = special_fields_untouched(pc, d, *map, range, size)) return c;
      if (write && map->program_readonly()) return violation(pc, ViolationKind::ReadOnlyWrite, d);
      if (!write && (map->flags & kWronlyProg)) return violation(pc, ViolationKind::WriteOnlyRead, d);
      if (stores_pointer && opts.unprivileged) return leak_into(pc, d, p.type);
      if (!write && loaded && p.value.is_const())
        if (auto known = frozen_constant(*map, static_cast<std::int64_t>(p.value.const_value()) + off, size)) {
          *loaded = RegValue::scalar(ScalarDomain::constant(*known));
          return std::nullopt;
        }
      break;
    }
    case RegType::Mem:
    case RegType::RingbufMem:
      if (p.maybe_null) return violation(pc, ViolationKind::MaybeNullAccess, d);
      if (auto c = bounds(pc, d, range, size, p.aux)) return c;
      if (write && p.read_only) return violation(pc, ViolationKind::ReadOnlyWrite, d);
      if (stores_pointer && opts.unprivileged) return leak_into(pc, d, p.type);
      break;
    case RegType::Packet:
    case RegType::PacketMeta:
      if (auto c = packet_bounds(s, pc, d, p, range, size)) return c;
      if (write && !opts.program_type.packet_writable) return violation(pc, ViolationKind::ReadOnlyWrite, d);
      if (stores_pointer && opts.unprivileged) return leak_into(pc, d, p.type);
      break;
    case RegType::FlowKeys:  // the kernel's check_flow_keys_access
      if (stores_pointer && opts.unprivileged) return leak_into(pc, d, p.type);
      if (auto c = bounds(pc, d, range, size, sizeof(bpf_flow_keys))) return c;
      break;
    case RegType::TpBuffer:  // the kernel's check_tp_buffer_access: a constant offset, not below the start
      d.off_min = range.lo;
      d.off_max = range.hi;
      if (!p.value.is_const()) return violation(pc, ViolationKind::VariableOffset, d);
      if (range.lo < 0) return violation(pc, ViolationKind::OutOfBounds, d);
      break;
  }
  if (loaded) *loaded = unknown_of_size(size);
  return std::nullopt;
}

Check check_helper_mem(const VerifierOptions& opts, State& s, std::uint32_t pc, int r, std::int64_t size_min,
                       std::int64_t size_max, bool write, std::uint32_t helper, int arg, bool& reads_uninit_stack) {
  const RegValue p = s.reg(r);
  ViolationDetail d;
  d.reg = r;
  d.helper = helper;
  d.arg = arg;
  d.write = write;
  d.size = size_max;
  const Range range = access_range(p, 0);
  switch (p.type) {
    case RegType::Stack: {
      d.off_min = range.lo;
      d.off_max = range.hi;
      d.limit = StackSlots::kBytes;
      // Even a zero-sized access must start inside the frame (the kernel's check_stack_slot_within_bounds).
      if (!range.bounded || !StackSlots::in_frame(range.lo, std::max<std::int64_t>(size_max, 1)) ||
          !StackSlots::in_frame(range.hi, size_max))
        return violation(pc, ViolationKind::OutOfBounds, d);
      if (size_max == 0) return std::nullopt;
      // A variable offset (privileged, the kernel's check_stack_range_initialized): every byte the
      // helper may touch counts; a write initialises nothing then, as each byte may be left alone.
      if (range.lo != range.hi && opts.unprivileged) {
        d.note = "helper memory argument on the stack with a variable offset (unprivileged)";
        return violation(pc, ViolationKind::PointerLeak, d);
      }
      const int lo = static_cast<int>(range.lo);
      const int span = static_cast<int>(range.hi - range.lo + size_max);
      if (std::as_const(s).frames[p.frame].stack.touches_dynptr(lo, span)) {
        // check_stack_range_initialized: a helper may neither read a dynptr's bytes nor write over them.
        d.note = write ? "potential write to dynptr disallowed" : "the bytes are a bpf_dynptr's";
        return violation(pc, ViolationKind::HelperArgMemory, d);
      }
      if (std::as_const(s).frames[p.frame].stack.touches_iter(lo, span)) {
        d.note = "the bytes are an iterator's (only its kfuncs use them)";
        return violation(pc, ViolationKind::HelperArgMemory, d);
      }
      if (write) {
        StackSlots& stack = s.frames[p.frame].stack;
        stack.clobber(lo, span);
        if (size_min > 0 && range.lo == range.hi) stack.write_bytes(lo, static_cast<int>(size_min));
        return std::nullopt;
      }
      const StackSlots& stack = std::as_const(s).frames[p.frame].stack;
      if (!stack.initialised(lo, span)) {
        if (opts.unprivileged) return violation(pc, ViolationKind::HelperArgMemory, d);
        reads_uninit_stack = true;
        s.frames[p.frame].stack.touch(lo);
      }
      bool pointer_read = false;
      stack.for_each_spill_in(lo, span, [&](const RegValue& v) { pointer_read |= v.is_pointer(); });
      if (pointer_read && opts.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
      return std::nullopt;
    }
    case RegType::MapValue: case RegType::Mem: case RegType::RingbufMem: case RegType::Packet:
    case RegType::PacketMeta: {
      if (p.maybe_null) return violation(pc, ViolationKind::MaybeNullAccess, d);
      std::int64_t limit = p.aux;
      if (p.type == RegType::MapValue) {
        const auto map = map_info_of(opts, p.aux);
        if (!map) return violation(pc, ViolationKind::UnknownMap, d);
        limit = map->value_size;
        if (auto c = special_fields_untouched(pc, d, *map, range, size_max)) return c;
        if (write && map->program_readonly()) return violation(pc, ViolationKind::ReadOnlyWrite, d);
        if (!write && (map->flags & kWronlyProg)) return violation(pc, ViolationKind::WriteOnlyRead, d);
      } else if (p.type == RegType::Packet || p.type == RegType::PacketMeta) {
        if (write && !opts.program_type.packet_writable) return violation(pc, ViolationKind::ReadOnlyWrite, d);
        return packet_bounds(s, pc, d, p, range, size_max);
      } else if (write && p.read_only) {
        return violation(pc, ViolationKind::ReadOnlyWrite, d);
      }
      return bounds(pc, d, range, size_max, limit);
    }
    case RegType::NotInit: case RegType::Scalar: case RegType::Ctx: case RegType::MapPtr: case RegType::PacketEnd:
    case RegType::FuncPtr: case RegType::SockCommon: case RegType::Socket: case RegType::TcpSock:
    case RegType::BtfId: case RegType::FlowKeys: case RegType::TpBuffer: case RegType::Dynptr:
      return violation(pc, ViolationKind::HelperArgType, d);
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier
