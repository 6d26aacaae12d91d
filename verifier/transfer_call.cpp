// Call and exit transfer functions: helper argument checks from signatures, subprogram frames,
// bpf_loop callbacks, and the rules at exit (initialised r0, released references).
#include <algorithm>
#include <string_view>

#include "verifier/btf_pointer.hpp"
#include "verifier/const_str.hpp"
#include "verifier/transfer.hpp"

namespace bpfvm::verifier {

using isa::Form;
using vm::ArgType;
using vm::RetType;

namespace {

constexpr std::uint32_t kBpfLoop = 181;               // BPF_FUNC_loop
constexpr std::uint32_t kBpfForEachMapElem = 164;     // BPF_FUNC_for_each_map_elem
constexpr std::uint32_t kBpfFindVma = 180;            // BPF_FUNC_find_vma
constexpr std::uint32_t kBpfSpinLock = 93, kBpfSpinUnlock = 94;
constexpr std::uint32_t kBpfTimerInit = 169, kBpfTimerSetCallback = 170;
constexpr std::uint32_t kBpfDynptrFromMem = 197, kBpfRingbufReserveDynptr = 198, kBpfRingbufSubmitDynptr = 199,
                        kBpfRingbufDiscardDynptr = 200;
constexpr std::uint32_t kBpfDynptrRead = 201, kBpfDynptrWrite = 202, kBpfDynptrData = 203;
constexpr std::uint32_t kBpfUserRingbufDrain = 209;
constexpr std::uint32_t kBpfTailCall = 12;            // BPF_FUNC_tail_call
constexpr std::uint32_t kBpfGetLocalStorage = 81;     // BPF_FUNC_get_local_storage
constexpr std::uint32_t kBpfSnprintf = 165;           // BPF_FUNC_snprintf
constexpr std::uint32_t kBpfSkRelease = 86;           // BPF_FUNC_sk_release (OBJ_RELEASE)
constexpr std::uint32_t kBpfPerCpuPtr = 153, kBpfThisCpuPtr = 154;  // ARG_PTR_TO_PERCPU_BTF_ID
constexpr std::uint32_t kMapProgArray = 3, kMapPerfEventArray = 4, kMapArrayOfMaps = 12, kMapHashOfMaps = 13,
                        kMapRingbuf = 27;  // enum bpf_map_type
constexpr std::uint64_t kMaxLoops = 1u << 23;         // BPF_MAX_LOOPS
constexpr std::int64_t kMaxHelperMemBytes = 1 << 29;  // a size bound the kernel also uses

constexpr std::uint32_t kLastKernelHelper = 211;  // BPF_FUNC_cgrp_storage_delete

// The kernel's check_map_func_compatibility, both directions: maps that only some helpers take, and
// helpers that take only some map types (enum bpf_map_type and enum bpf_func_id numbers).
bool map_fits_helper(std::uint32_t map, std::uint32_t fn) {
  auto in = [](std::uint32_t x, std::initializer_list<std::uint32_t> set) {
    return std::find(set.begin(), set.end(), x) != set.end();
  };
  switch (map) {  // map type -> the helpers that may take it
    case 3: if (fn != 12) return false; break;                                    // PROG_ARRAY: tail_call
    case 4: if (!in(fn, {22, 25, 55, 111, 121})) return false; break;             // PERF_EVENT_ARRAY
    case 7: if (fn != 27) return false; break;                                    // STACK_TRACE: get_stackid
    case 8: if (!in(fn, {33, 37})) return false; break;                           // CGROUP_ARRAY
    case 14: case 25: case 17: if (!in(fn, {1, 51})) return false; break;         // DEVMAP(_HASH), XSKMAP: lookup, redirect_map
    case 16: if (fn != 51) return false; break;                                   // CPUMAP: redirect_map
    case 22: case 23: if (!in(fn, {87, 88, 89})) return false; break;             // QUEUE, STACK: push/pop/peek
    case 27: if (!in(fn, {130, 131, 134, 198})) return false; break;              // RINGBUF
    case 30: if (!in(fn, {87, 89})) return false; break;                          // BLOOM_FILTER: push/peek
    case 31: if (fn != 209) return false; break;                                  // USER_RINGBUF
    // Local storage: their get/delete helpers and kptr_xchg (194), never map_lookup_elem & co.
    case 24: if (!in(fn, {107, 108, 194})) return false; break;                   // SK_STORAGE
    case 28: if (!in(fn, {145, 146, 194})) return false; break;                   // INODE_STORAGE
    case 29: if (!in(fn, {156, 157, 194})) return false; break;                   // TASK_STORAGE
    case 32: if (!in(fn, {210, 211, 194})) return false; break;                   // CGRP_STORAGE
    // SOCKMAP, SOCKHASH: their redirect/update helpers, sk_select_reuseport, lookup; update and delete
    // are checked with the program type (sockmap_map_op).
    case 15: if (!in(fn, {1, 2, 3, 52, 53, 60, 82})) return false; break;
    case 18: if (!in(fn, {1, 2, 3, 70, 71, 72, 82})) return false; break;
    case 20: if (fn != 82) return false; break;                                   // REUSEPORT_SOCKARRAY: sk_select_reuseport
    case 19: case 21: if (fn != 81) return false; break;                          // (PERCPU_)CGROUP_STORAGE: get_local_storage
    default: break;
  }
  switch (fn) {  // helper -> the map types it takes
    case 12: return map == 3;
    case 22: case 25: case 55: case 111: case 121: return map == 4;
    case 27: return map == 7;
    case 33: case 37: return map == 8;
    case 51: return in(map, {14, 16, 17, 25});  // redirect_map: DEVMAP, CPUMAP, XSKMAP, DEVMAP_HASH
    case 52: case 53: case 60: return map == 15;  // SOCKMAP
    case 70: case 71: case 72: return map == 18;  // SOCKHASH
    case 81: return in(map, {19, 21});           // CGROUP_STORAGE, PERCPU_CGROUP_STORAGE
    case 82: return in(map, {20, 15, 18});       // REUSEPORT_SOCKARRAY, SOCKMAP, SOCKHASH
    case 88: return in(map, {22, 23});           // map_pop_elem: QUEUE, STACK
    case 87: case 89: return in(map, {22, 23, 30});
    case 107: case 108: return map == 24;        // SK_STORAGE
    case 130: case 131: case 134: case 198: return map == 27;
    case 145: case 146: return map == 28;        // INODE_STORAGE
    case 156: case 157: return map == 29;        // TASK_STORAGE
    case 195: return in(map, {5, 6, 10});        // map_lookup_percpu_elem: PERCPU_HASH/ARRAY, LRU_PERCPU_HASH
    case 209: return map == 31;
    case 164: return in(map, {1, 2, 5, 6, 9, 10});  // for_each_map_elem: (percpu) hash/array, lru(_percpu) hash
    case 210: case 211: return map == 32;        // CGRP_STORAGE
    default: return true;
  }
}

bool is_sockmap(std::uint32_t map) { return map == 15 || map == 18; }  // SOCKMAP, SOCKHASH

// bpf_map_update_elem / delete on a SOCKMAP or SOCKHASH from a program: check_map_func_compatibility's
// may_update_sockmap (update and delete only from some types; "cannot update sockmap in this context").
// A lookup is open to every type: it acquires a socket reference (the kernel's is_acquire_function),
// which only types with bpf_sk_release can give back.
std::optional<Violation> sockmap_map_op(const ProgramTypeInfo& type, std::uint32_t map, std::uint32_t fn,
                                        std::uint32_t pc, ViolationDetail& d) {
  using Writes = ProgramTypeInfo::SockmapWrites;
  if (!is_sockmap(map)) return std::nullopt;
  const Writes w = type.helper_ids ? type.sockmap_writes : Writes::UpdateDelete;
  if ((fn == 2 && w != Writes::UpdateDelete) || (fn == 3 && w == Writes::None)) {
    d.limit = map;
    return violation(pc, ViolationKind::MapFuncMismatch, d);
  }
  return std::nullopt;
}

void clobber_caller_saved(State& s) { clobber_caller_saved_regs(s); }

bool is_zero(const RegValue& v) { return v.is_scalar() && v.value.is_const() && v.value.const_value() == 0; }

bool is_socket(const RegValue& v) {
  return v.type == RegType::SockCommon || v.type == RegType::Socket || v.type == RegType::TcpSock;
}

// The kernel's is_acquire_function for sockets: bpf_sk_lookup_tcp, bpf_sk_lookup_udp, bpf_skc_lookup_tcp.
bool acquires_socket(std::uint32_t helper) { return helper == 84 || helper == 85 || helper == 99; }
// The kernel's is_ptr_cast_function (those bpfvm models): bpf_sk_fullsock, bpf_tcp_sock. The result
// holds the argument's reference, if any.
bool casts_socket(std::uint32_t helper) { return helper == 95 || helper == 96; }

struct CallFacts {
  std::optional<std::uint32_t> map;  // ConstMapPtr argument's map index
  std::uint64_t alloc_size = 0;      // ConstAllocSizeOrZero
  bool has_alloc_size = false;
  std::uint32_t callback = 0;        // PtrToFunc target
  bool has_callback = false;
  HeldSpinLock lock;                 // PtrToSpinLock: the lock it names
  std::uint32_t socket_ref = 0;      // a socket argument's reference (0: none)
  std::optional<std::uint32_t> percpu_type;  // ARG_PTR_TO_PERCPU_BTF_ID: the variable's type id
  std::optional<std::uint32_t> timer_map;    // ARG_PTR_TO_TIMER: the map index the timer lives in
  std::uint32_t dynptr_frame = 0;    // an initialised stack dynptr argument: its frame and offset
  int dynptr_off = 0;
  std::uint32_t dynptr_ref = 0;      // the reference it holds (a ring buffer dynptr), else 0
  std::string_view const_str;        // ARG_PTR_TO_CONST_STR: the string (bpf_snprintf's format)
  bool has_const_str = false;
};

// The kernel's resolve_map_arg_type: bpf_map_update_elem's value on a SOCKMAP/SOCKHASH is a socket
// (ARG_PTR_TO_BTF_ID_SOCK_COMMON), not value bytes.
ArgType resolve_map_arg_type(const VerifierOptions& opts, const CallFacts& facts, ArgType t) {
  if (t != ArgType::PtrToMapValue || !facts.map) return t;
  const auto map = map_info_of(opts, *facts.map);
  return map && is_sockmap(map->type) ? ArgType::PtrToBtfIdSockCommon : t;
}

// A struct bpf_spin_lock or bpf_timer inside a map value, as a helper argument must name it: where
// MapInfo keeps its offset, the violation kind, and the notes for a map without one, a variable
// offset and another offset.
struct ValueField {
  std::int32_t MapInfo::*offset;
  ViolationKind kind;
  const char* missing;
  const char* variable;
  const char* elsewhere;
};
constexpr ValueField kSpinLockField{
    &MapInfo::spin_lock_off, ViolationKind::SpinLock,
    "map has no valid bpf_spin_lock (its BTF value type holds no struct bpf_spin_lock)",
    "bpf_spin_lock has to be at a constant offset: the pointer's offset is variable",
    "the pointer does not point to the value's struct bpf_spin_lock"};
constexpr ValueField kTimerField{
    &MapInfo::timer_off, ViolationKind::Timer,
    "map has no valid bpf_timer (it needs BTF whose value type holds a struct bpf_timer)",
    "R1 doesn't have constant offset. bpf_timer has to be at the constant offset",
    "the pointer doesn't point to the value's struct bpf_timer"};

// The kernel's process_spin_lock / process_timer_func: a non-null map value pointer at the constant
// offset of the value's field, in a map whose BTF has one.
Check check_value_field_arg(const VerifierOptions& opts, std::uint32_t pc, const RegValue& v, ViolationDetail d,
                            const ValueField& field) {
  if (v.type != RegType::MapValue || v.maybe_null) return violation(pc, ViolationKind::HelperArgType, d);
  const auto map = map_info_of(opts, v.aux);
  if (!map) return violation(pc, ViolationKind::UnknownMap, d);
  const std::int32_t off = (*map).*field.offset;
  if (off < 0) {
    d.note = field.missing;
    return violation(pc, field.kind, d);
  }
  if (!v.value.is_const()) {
    d.note = field.variable;
    return violation(pc, field.kind, d);
  }
  if (static_cast<std::int64_t>(v.value.const_value()) != off) {
    d.note = field.elsewhere;
    d.off_min = d.off_max = static_cast<std::int64_t>(v.value.const_value());
    d.limit = off;
    return violation(pc, field.kind, d);
  }
  return std::nullopt;
}

// bpf_spin_lock / bpf_spin_unlock (their argument already checked: `named`) change which lock the
// path holds (the kernel's active_lock).
Check take_or_release_lock(State& s, std::uint32_t pc, std::uint32_t helper, const HeldSpinLock& named) {
  ViolationDetail d;
  d.helper = helper;
  d.reg = 1;
  if (helper == kBpfSpinLock) {  // never while one is held: call_helper refuses every call but unlock then
    s.lock = named;
    return std::nullopt;
  }
  if (!s.lock.held) {
    d.note = "bpf_spin_unlock without taking a lock";
    return violation(pc, ViolationKind::SpinLock, d);
  }
  if (s.lock.map != named.map || s.lock.id != named.id) {
    d.note = "bpf_spin_unlock of different lock";
    return violation(pc, ViolationKind::SpinLock, d);
  }
  s.lock = HeldSpinLock{};
  return std::nullopt;
}

// The kernel's process_dynptr_func (and check_func_arg's release rule) for the dynptrs bpfvm has:
// bpf_user_ringbuf_drain's callback argument (CONST_PTR_TO_DYNPTR) and dynptrs on the stack.
// bpf_dynptr_from_mem and bpf_ringbuf_reserve_dynptr initialise one (MEM_UNINIT: 16 bytes at a
// constant 8-aligned offset; an unreferenced dynptr there is destroyed, a referenced one may not be
// overwritten); reserve_dynptr's is a ring buffer dynptr holding a new reference, whatever the call
// returns at run time (a failed reservation leaves a null dynptr that must still be released).
// bpf_ringbuf_submit/discard_dynptr (OBJ_RELEASE) take only such a referenced one and release it.
// bpf_dynptr_read/write/data take any initialised one (ARG_PTR_TO_DYNPTR | MEM_RDONLY: they do not
// change the struct); a data slice of a ring buffer dynptr carries its reference (the kernel's
// is_dynptr_ref_function), so the release invalidates it.
Check check_dynptr_arg(Env& env, State& s, std::uint32_t pc, std::uint32_t helper, const RegValue& v,
                       ViolationDetail d, CallFacts& facts) {
  const bool takes_const = helper == kBpfDynptrRead || helper == kBpfDynptrWrite || helper == kBpfDynptrData;
  const bool releases = helper == kBpfRingbufSubmitDynptr || helper == kBpfRingbufDiscardDynptr;
  const bool initialises = helper == kBpfDynptrFromMem || helper == kBpfRingbufReserveDynptr;
  if (v.type == RegType::Dynptr) {
    // check_func_arg_reg_off: the pointer as the kernel made it (arithmetic on it is allowed, passing it on is not).
    if (!v.value.is_const()) {
      d.note = "variable dynptr_ptr access disallowed";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    if (const auto off = static_cast<std::int64_t>(v.value.const_value()); off != 0) {
      d.note = off < 0 ? "negative offset dynptr_ptr ptr disallowed (it must be the pointer the kernel passed)"
                       : "dereference of modified dynptr_ptr ptr disallowed (it must be the pointer the kernel passed)";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    if (takes_const) return std::nullopt;
    d.note = releases ? "cannot release unowned const bpf_dynptr"
                      : "cannot pass pointer to const bpf_dynptr, the helper mutates it";
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (v.type == RegType::Stack) {
    if (!takes_const && !releases && !initialises) {
      d.note = "dynptr arguments of this helper";
      return violation(pc, ViolationKind::Unsupported, d);
    }
    if (auto c = check_dynptr_slot(pc, v, d)) return c;
    const auto off = static_cast<std::int64_t>(v.value.const_value());
    const std::uint32_t frame = v.frame;
    const StackSlots& stack = std::as_const(s).frames[frame].stack;
    const int at = static_cast<int>(off);
    if (initialises) {
      // destroy_if_dynptr_stack_slot: the slots may hold a local dynptr, never a referenced one.
      if (stack.touches_referenced_dynptr(at, 16)) {
        d.note = "cannot overwrite referenced dynptr";
        return violation(pc, ViolationKind::HelperArgType, d);
      }
      std::uint32_t ref = 0;
      if (helper == kBpfDynptrFromMem) {
        // check_helper_call: the kernel builds a local dynptr only over a map value.
        if (std::as_const(s).reg(1).type != RegType::MapValue) {
          d.reg = d.arg = 1;
          d.note = "Unsupported reg type for bpf_dynptr_from_mem data (it must be a map value)";
          return violation(pc, ViolationKind::HelperArgType, d);
        }
      } else {
        ref = env.new_id();  // mark_stack_slots_dynptr: acquire_reference for a ring buffer dynptr
        s.refs.push_back(ref);
        env.note_ref(ref, pc);
      }
      s.frames[frame].stack.mark_dynptr(at, ref);
      return std::nullopt;
    }
    if (releases && stack.dynptr_ref(at) == 0) {
      d.note = "arg 1 is an unacquired reference (it must be a bpf_ringbuf_reserve_dynptr dynptr not yet released)";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    if (!stack.dynptr_at(at)) {
      d.note = "Expected an initialized dynptr";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    facts.dynptr_frame = frame;
    facts.dynptr_off = at;
    facts.dynptr_ref = stack.dynptr_ref(at);
    return std::nullopt;
  }
  d.note = "expected pointer to stack or const struct bpf_dynptr";
  return violation(pc, ViolationKind::HelperArgType, d);
}

Check check_helper_args(Env& env, State& s, std::uint32_t pc, std::uint32_t helper, const vm::HelperSignature& sig,
                        CallFacts& facts) {
  const auto& opts = env.options;
  for (int i = 0; i < 5; ++i) {
    const int r = i + 1;
    const ArgType t = resolve_map_arg_type(opts, facts, sig.args[static_cast<std::size_t>(i)]);
    ViolationDetail d;
    d.reg = r;
    d.helper = helper;
    d.arg = r;
    d.expected = t;
    if (t == ArgType::DontCare) continue;
    if (auto c = check_reg_init(s, r, pc)) return c;
    const RegValue& v = s.reg(r);
    const auto wrong = [&] { return violation(pc, ViolationKind::HelperArgType, d); };
    switch (t) {
      case ArgType::DontCare: break;
      case ArgType::Anything:
        if (v.is_pointer() && opts.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
        break;
      case ArgType::ConstMapPtr: {
        if (v.type != RegType::MapPtr || v.maybe_null) return wrong();
        facts.map = v.aux;
        const auto map = map_info_of(opts, v.aux);
        if (!map) return violation(pc, ViolationKind::UnknownMap, d);
        // The kernel's check_map_func_compatibility: these maps have no values to look up.
        const bool no_values = map->type == kMapProgArray || map->type == kMapPerfEventArray || map->type == kMapRingbuf;
        if (no_values && (helper == 1 || helper == 2 || helper == 3)) {
          d.note = "map type without lookup/update/delete";
          return violation(pc, ViolationKind::HelperArgType, d);
        }
        // record_func_map: a BPF_F_RDONLY_PROG map (.rodata, .kconfig) takes no update, delete, push
        // or pop, checked on every path that reaches the call with it (EACCES).
        if (map->program_readonly() && (helper == 2 || helper == 3 || helper == 87 || helper == 88)) {
          d.note = "write into map forbidden (the map is BPF_F_RDONLY_PROG)";
          return violation(pc, ViolationKind::HelperArgType, d);
        }
        if (helper <= kLastKernelHelper && !map_fits_helper(map->type, helper)) {
          d.limit = map->type;
          return violation(pc, ViolationKind::MapFuncMismatch, d);
        }
        if (auto c = sockmap_map_op(opts.program_type, map->type, helper, pc, d)) return c;
        break;
      }
      case ArgType::PtrToMapValueOrNull:
        if (is_zero(v)) break;
        [[fallthrough]];
      case ArgType::PtrToMapKey:
      case ArgType::PtrToMapValue:
      case ArgType::PtrToUninitMapValue: {
        if (!facts.map) return wrong();
        const auto map = map_info_of(opts, *facts.map);
        if (!map) return violation(pc, ViolationKind::UnknownMap, d);
        const std::int64_t size = t == ArgType::PtrToMapKey ? map->key_size : map->value_size;
        if (v.type == RegType::Scalar || v.type == RegType::Ctx || v.type == RegType::MapPtr) return wrong();
        // MEM_UNINIT | MEM_WRITE (pop/peek): the helper writes the bytes, so they must be writable
        // (never a read-only map value) and, on the stack, become plain data: a spilled pointer
        // there is gone.
        const bool write = t == ArgType::PtrToUninitMapValue;
        if (auto c = check_helper_mem(opts, s, pc, r, size, size, write, helper, r, env.reads_uninit_stack)) return c;
        break;
      }
      case ArgType::PtrToMem:
      case ArgType::PtrToMemOrNull:
      case ArgType::PtrToUninitMem: {
        const bool write = t == ArgType::PtrToUninitMem;
        const ArgType size_type = i + 1 < 5 ? sig.args[static_cast<std::size_t>(i + 1)] : ArgType::DontCare;
        if (size_type != ArgType::ConstSize && size_type != ArgType::ConstSizeOrZero) {
          d.note = "memory argument without a size argument after it";
          return violation(pc, ViolationKind::Unsupported, d);
        }
        if (auto c = check_reg_init(s, r + 1, pc)) return c;
        const RegValue& size = s.reg(r + 1);
        ViolationDetail ds = d;
        ds.reg = r + 1;
        ds.arg = r + 1;
        ds.expected = size_type;
        if (!size.is_scalar()) return violation(pc, ViolationKind::HelperArgType, ds);
        ds.off_min = static_cast<std::int64_t>(size.value.umin());
        ds.off_max = static_cast<std::int64_t>(std::min<std::uint64_t>(size.value.umax(), INT64_MAX));
        if (size.value.umax() >= static_cast<std::uint64_t>(kMaxHelperMemBytes) ||
            (size_type == ArgType::ConstSize && size.value.umin() == 0))
          return violation(pc, ViolationKind::HelperArgSize, ds);
        // check_func_arg: a NULL (scalar 0) only where the prototype says PTR_MAYBE_NULL, and then with a
        // size that may be zero (a larger one fails in check_helper_mem below, as the kernel's does).
        if (size.value.umax() == 0 && !v.is_pointer()) {
          if (!is_zero(v) || t != ArgType::PtrToMemOrNull) return wrong();
          break;
        }
        if (auto c = check_helper_mem(opts, s, pc, r, static_cast<std::int64_t>(size.value.umin()),
                                      static_cast<std::int64_t>(size.value.umax()), write, helper, r, env.reads_uninit_stack))
          return c;
        ++i;  // the size argument is checked
        break;
      }
      case ArgType::ConstSize:
      case ArgType::ConstSizeOrZero:
        if (!v.is_scalar()) return wrong();
        break;
      case ArgType::PtrToCtxOrNull:  // the kernel's ARG_PTR_TO_CTX_OR_NULL: a scalar 0 is NULL
        if (is_zero(v)) break;
        [[fallthrough]];
      case ArgType::PtrToCtx:
        if (v.type != RegType::Ctx || !v.value.is_const() || v.value.const_value() != 0) return wrong();
        break;
      case ArgType::PtrToStack:
        if (v.type != RegType::Stack && !is_zero(v)) return wrong();
        break;
      case ArgType::PtrToFunc:
        if (v.type != RegType::FuncPtr) return wrong();
        facts.callback = v.aux;
        facts.has_callback = true;
        break;
      case ArgType::PtrToRingbufMem:
        if (v.type != RegType::RingbufMem || v.maybe_null || !v.value.is_const() || v.value.const_value() != 0)
          return wrong();
        break;
      case ArgType::PtrToLong:
      case ArgType::PtrToInt: {
        const std::int64_t size = t == ArgType::PtrToLong ? 8 : 4;
        if (auto c = check_helper_mem(opts, s, pc, r, size, size, true, helper, r, env.reads_uninit_stack)) return c;
        // MEM_ALIGNED: check_ptr_alignment(strict) on every possible offset; a packet pointer counts
        // NET_IP_ALIGN (2) bytes before the data, as the kernel's check_pkt_ptr_alignment does.
        const bool pkt = v.type == RegType::Packet || v.type == RegType::PacketMeta;
        const ScalarDomain at = pkt ? v.value.add(ScalarDomain::constant(2)) : v.value;
        const std::uint64_t low = static_cast<std::uint64_t>(size) - 1;
        if (((at.bits().mask() | at.bits().value()) & low) != 0) {
          d.off_min = v.value.smin();
          d.off_max = v.value.smax();
          d.size = size;
          return violation(pc, ViolationKind::MisalignedAtomic, d);
        }
        break;
      }
      case ArgType::ConstAllocSizeOrZero:
        if (!v.is_scalar()) return wrong();
        if (!v.value.is_const()) {
          d.note = "ring buffer reservation of a size that is not a constant";
          return violation(pc, ViolationKind::Unsupported, d);
        }
        facts.alloc_size = v.value.const_value();
        facts.has_alloc_size = true;
        break;
      case ArgType::PtrToSpinLock:
        if (auto c = check_value_field_arg(opts, pc, v, d, kSpinLockField)) return c;
        facts.lock = HeldSpinLock{true, v.aux, v.id};
        break;
      case ArgType::PtrToConstStr: {
        // check_reg_const_str: a NUL-terminated string at a constant offset of a read-only map value.
        if (v.type != RegType::MapValue || v.maybe_null) return wrong();
        const auto map = map_info_of(opts, v.aux);
        if (!map) return violation(pc, ViolationKind::UnknownMap, d);
        if (auto c = check_helper_mem(opts, s, pc, r, 1, 1, false, helper, r, env.reads_uninit_stack)) return c;
        if (const char* problem = const_str_problem(*map, v, facts.const_str)) {
          d.note = problem;
          return wrong();
        }
        facts.has_const_str = true;
        break;
      }
      case ArgType::PtrToSocket:
      case ArgType::PtrToSockCommon:
      case ArgType::PtrToBtfIdSockCommon:
        // A non-null socket (the kernel's fullsock_types / sock_types); its offset is always 0.
        if (v.maybe_null || (t == ArgType::PtrToSocket ? v.type != RegType::Socket : !is_socket(v))) return wrong();
        if (helper == kBpfSkRelease && v.ref == 0) {
          d.note = "must be referenced when passed to release function (a bpf_sk_lookup_* result)";
          return wrong();
        }
        facts.socket_ref = v.ref;
        break;
      case ArgType::PtrToSocketOrNull:
        // A full socket that may be NULL, or NULL itself (sk_lookup's bpf_sk_assign); not released.
        if (is_zero(v)) break;
        if (v.type != RegType::Socket) return wrong();
        break;
      case ArgType::PtrToBtfIdOrNull:
      case ArgType::PtrToBtfId: {
        // ARG_PTR_TO_BTF_ID_OR_NULL (the local-storage helpers' object): NULL, or the object below,
        // which may also be a maybe-NULL pointer.
        const bool or_null = t == ArgType::PtrToBtfIdOrNull;
        if (or_null && is_zero(v)) break;
        if (helper == kBpfPerCpuPtr || helper == kBpfThisCpuPtr) {
          // ARG_PTR_TO_PERCPU_BTF_ID: a per-CPU variable's pointer (a typed __ksym); the result
          // points to its type (check_helper_call's RET_PTR_TO_MEM_OR_BTF_ID).
          if (v.type != RegType::BtfId || !v.percpu || !v.value.is_const() || v.value.const_value() != 0) return wrong();
          facts.percpu_type = v.aux;
          break;
        }
        // check_reg_type's btf_ptr_types: a kernel object pointer, plain or trusted, not NULL and not
        // read out of another object's field (PTR_UNTRUSTED), of the struct the prototype names
        // (btf_struct_ids_match). bpfvm wants it at offset 0; the kernel also takes a pointer to a
        // member whose type is the expected struct.
        const auto want = helper <= kLastKernelHelper ? helper_btf_arg(helper, r) : std::nullopt;
        const auto want_id = want && opts.kernel_types ? opts.kernel_types->struct_id(*want) : std::nullopt;
        if (!want_id) {
          d.note = want ? "kernel object arguments (ARG_PTR_TO_BTF_ID) without the kernel's BTF"
                        : "kernel object arguments (ARG_PTR_TO_BTF_ID) of this helper";
          return violation(pc, ViolationKind::Unsupported, d);
        }
        if (v.type != RegType::BtfId) return wrong();
        if (v.maybe_null && !or_null) {
          d.note = "possibly NULL pointer passed to helper";
          return wrong();
        }
        if (v.untrusted) {
          d.note = "a pointer read out of a kernel object is not trusted";
          return wrong();
        }
        if (v.aux != *want_id || !v.value.is_const() || v.value.const_value() != 0) {
          d.note = "a pointer to another kernel struct, or not to the start of the expected one";
          return wrong();
        }
        break;
      }
      case ArgType::PtrToTimer:
        if (auto c = check_value_field_arg(opts, pc, v, d, kTimerField)) return c;
        facts.timer_map = v.aux;
        break;
      case ArgType::PtrToDynptr:
        if (auto c = check_dynptr_arg(env, s, pc, helper, v, d, facts)) return c;
        break;
      case ArgType::PtrToKptr:
        d.note = "kptr arguments (ARG_PTR_TO_KPTR)";
        return violation(pc, ViolationKind::Unsupported, d);
    }
  }
  // check_bpf_snprintf_call: the format (r3) must print data_len / 8 values (r5's known bits, as the
  // kernel reads var_off.value) with the kernel's printk subset.
  if (helper == kBpfSnprintf && facts.has_const_str) {
    const std::uint64_t data_len = s.reg(5).value.bits().value();
    if (data_len % 8 != 0 || !printk_format_ok(facts.const_str, data_len / 8)) {
      ViolationDetail d;
      d.reg = 3;
      d.helper = helper;
      d.arg = 3;
      d.expected = ArgType::PtrToConstStr;
      d.note = "Invalid format string";
      return violation(pc, ViolationKind::HelperArgType, d);
    }
  }
  return std::nullopt;
}

// Drops a reference (a ring buffer reservation submitted or discarded, a socket released) and every
// pointer that holds it (the kernel's release_reference / mark_reg_invalid): a register becomes an
// unknown scalar for a privileged loader (allow_ptr_leaks), unreadable for an unprivileged one; a spill
// becomes plain data.
void release_reference(State& s, std::uint32_t ref, bool unprivileged) {
  std::erase(s.refs, ref);
  s.frames.update_values([ref](const RegValue& v) { return v.is_pointer() && v.ref == ref; },
                         [unprivileged](RegValue& v) { v = unprivileged ? RegValue::not_init() : RegValue::unknown(); },
                         [](RegValue& v) { v = RegValue::unknown(); });
}

// The references a call's OBJ_RELEASE arguments name (ringbuf submit/discard, bpf_sk_release).
void release_args(State& s, std::uint32_t helper, const vm::HelperSignature& sig, const CallFacts& facts,
                  bool unprivileged) {
  for (int i = 0; i < 5; ++i)
    if (sig.args[static_cast<std::size_t>(i)] == ArgType::PtrToRingbufMem)
      release_reference(s, s.reg(i + 1).ref, unprivileged);
  if (helper == kBpfSkRelease && facts.socket_ref != 0) release_reference(s, facts.socket_ref, unprivileged);
  if ((helper == kBpfRingbufSubmitDynptr || helper == kBpfRingbufDiscardDynptr) && facts.dynptr_ref != 0) {
    // unmark_stack_slots_dynptr: the dynptr's slots become invalid, and so do its clones (they hold the
    // same reference, in any frame) and its slices.
    for (std::size_t f = 0; f < s.frames.size(); ++f)
      if (std::as_const(s).frames[f].stack.holds_dynptr_ref(facts.dynptr_ref))
        s.frames[f].stack.unmark_dynptrs_holding(facts.dynptr_ref);
    release_reference(s, facts.dynptr_ref, unprivileged);
  }
}

Check push_frame(Env& env, State& s, std::uint32_t pc, std::uint32_t target, Frame callee) {
  if (s.frames.size() >= static_cast<std::size_t>(isa::kMaxCallFrames)) {
    ViolationDetail d;
    d.limit = isa::kMaxCallFrames;
    return violation(pc, ViolationKind::CallDepth, d);
  }
  (void)env;
  callee.callsite = pc;
  callee.entry_pc = target;
  callee.regs[isa::kFramePointer] = RegValue::pointer(RegType::Stack);
  callee.regs[isa::kFramePointer].frame = static_cast<std::uint8_t>(s.frames.size());
  s.frames.push_back(std::move(callee));
  return std::nullopt;
}

Frame callback_frame(const std::array<RegValue, 4>& args) {
  Frame f;
  f.callback = true;
  f.callback_args = args;
  for (int r = 1; r <= 4; ++r) f.regs[static_cast<std::size_t>(r)] = args[static_cast<std::size_t>(r - 1)];
  return f;
}

Check call_helper(Env& env, State& s, std::uint32_t pc, std::uint32_t helper, Successors& out) {
  ViolationDetail d;
  d.helper = helper;
  if (const auto& ids = env.options.program_type.helper_ids;
      ids && helper <= kLastKernelHelper && !std::binary_search(ids->begin(), ids->end(), helper))
    return violation(pc, ViolationKind::HelperNotAllowed, d);
  const vm::HelperEntry* entry = env.options.helpers ? env.options.helpers->find(helper) : nullptr;
  if (!entry) return violation(pc, ViolationKind::UnknownHelper, d);
  const auto& sig = helper_signature(env.options.program_type, helper, entry->signature);
  if (s.lock.held && helper != kBpfSpinUnlock) {
    d.note = "function calls are not allowed while holding a lock";
    return violation(pc, ViolationKind::SpinLock, d);
  }
  CallFacts facts;
  if (sig.known) {
    if (auto c = check_helper_args(env, s, pc, helper, sig, facts)) return c;
    if (helper == kBpfSpinLock || helper == kBpfSpinUnlock)
      if (auto c = take_or_release_lock(s, pc, helper, facts.lock)) return c;
  } else if (env.options.unprivileged) {
    for (int r = 1; r <= 5; ++r)
      if (s.reg(r).is_pointer()) {
        d.reg = r;
        d.arg = r;
        return violation(pc, ViolationKind::PointerLeak, d);
      }
  }
  if (helper == kBpfGetLocalStorage && sig.known &&
      !(s.reg(2).is_scalar() && s.reg(2).value.is_const() && s.reg(2).value.const_value() == 0)) {
    d.reg = 2;  // check_helper_call: the helper cannot fail, so no flags are defined
    d.note = "get_local_storage() doesn't support non-zero flags";
    return violation(pc, ViolationKind::HelperArgType, d);
  }
  if (helper == kBpfTailCall && sig.known && !s.refs.empty()) {
    // A successful tail call never returns: the reservation could not be released any more.
    d.limit = s.refs.front();
    d.other_pc = env.ref_site(s.refs.front());
    d.note = "tail_call would lead to reference leak";
    return violation(pc, ViolationKind::UnreleasedReference, d);
  }
  if (facts.has_callback && helper != kBpfLoop && helper != kBpfForEachMapElem && helper != kBpfFindVma &&
      helper != kBpfTimerSetCallback && helper != kBpfUserRingbufDrain) {
    d.note = "callbacks of helpers other than bpf_loop, bpf_for_each_map_elem, bpf_find_vma, bpf_timer_set_callback "
             "and bpf_user_ringbuf_drain";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  if (helper == kBpfForEachMapElem && sig.known) {
    // The kernel's set_map_elem_callback_state: callback(map, key, value, ctx), once per element (or
    // never): the key read only (PTR_TO_MAP_KEY), the value as a lookup's, ctx the caller's r3.
    if (!facts.has_callback || !facts.map) return violation(pc, ViolationKind::HelperArgType, d);
    const auto map = map_info_of(env.options, *facts.map);
    if (!map) return violation(pc, ViolationKind::UnknownMap, d);
    RegValue key = RegValue::pointer(RegType::Mem, map->key_size);
    key.read_only = true;
    key.id = env.new_id();
    RegValue value = RegValue::pointer(RegType::MapValue, *facts.map);
    value.id = env.new_id();
    State first = s;
    if (auto c = push_frame(env, first, pc, facts.callback, callback_frame({s.reg(1), key, value, s.reg(3)}))) return c;
    out.forks.push_back(Fork{std::move(first), facts.callback});
  }
  if (helper == kBpfTimerInit && sig.known && facts.timer_map && facts.map && *facts.timer_map != *facts.map) {
    // The kernel's check_helper_call for bpf_timer_init: the map argument is the map the timer lives in.
    d.reg = 2;
    d.note = "timer pointer in R1 doesn't match map pointer in R2 (bpf_timer_init wants the timer's own map)";
    return violation(pc, ViolationKind::Timer, d);
  }
  if (helper == kBpfTimerSetCallback && sig.known) {
    // The kernel's set_timer_callback_state: callback(map, key, value) of the timer's map, run later
    // on its own (an async callback): explored once from here, its exit ends the path, r0 must be 0.
    if (!facts.has_callback || !facts.timer_map) return violation(pc, ViolationKind::HelperArgType, d);
    const auto map = map_info_of(env.options, *facts.timer_map);
    if (!map) return violation(pc, ViolationKind::UnknownMap, d);
    RegValue key = RegValue::pointer(RegType::Mem, map->key_size);
    key.read_only = true;
    key.id = env.new_id();
    RegValue value = RegValue::pointer(RegType::MapValue, *facts.timer_map);
    value.id = env.new_id();
    State later = s;
    later.refs.clear();  // the callback starts holding nothing; what it acquires it must release
    Frame f = callback_frame({RegValue::pointer(RegType::MapPtr, *facts.timer_map), key, value, RegValue{}});
    f.async_callback = true;
    if (auto c = push_frame(env, later, pc, facts.callback, std::move(f))) return c;
    out.forks.push_back(Fork{std::move(later), facts.callback});
  }
  if (helper == kBpfFindVma && sig.known) {
    // The kernel's set_find_vma_callback_state: callback(task, vma, ctx): the caller's task (checked
    // as its ARG_PTR_TO_BTF_ID above), the vm_area_struct holding the address (a kernel object
    // pointer), the caller's r4 (callback_ctx); returns 0 or 1. Called at most once, explored as bpf_loop's.
    if (!facts.has_callback) return violation(pc, ViolationKind::HelperArgType, d);
    const auto vma = env.options.kernel_types ? env.options.kernel_types->struct_id("vm_area_struct") : std::nullopt;
    if (!vma) {
      d.note = "bpf_find_vma without the kernel's BTF";
      return violation(pc, ViolationKind::Unsupported, d);
    }
    State first = s;
    if (auto c = push_frame(env, first, pc, facts.callback, callback_frame({s.reg(1), btf_pointer(*vma), s.reg(4), RegValue{}})))
      return c;
    out.forks.push_back(Fork{std::move(first), facts.callback});
  }
  if (helper == kBpfUserRingbufDrain && sig.known) {
    // The kernel's set_user_ringbuf_callback_state: callback(dynptr, ctx), once per sample (or never):
    // r1 a const dynptr over the sample (CONST_PTR_TO_DYNPTR), r2 the caller's r3; returns 0 or 1.
    if (!facts.has_callback || !facts.map) return violation(pc, ViolationKind::HelperArgType, d);
    State first = s;
    if (auto c = push_frame(env, first, pc, facts.callback,
                            callback_frame({RegValue::pointer(RegType::Dynptr), s.reg(3), RegValue{}, RegValue{}})))
      return c;
    out.forks.push_back(Fork{std::move(first), facts.callback});
  }
  if (helper == kBpfLoop && sig.known) {
    if (!facts.has_callback) return violation(pc, ViolationKind::HelperArgType, d);
    const RegValue& nr = s.reg(1);
    const RegValue& flags = s.reg(4);
    if (!nr.is_scalar() || !is_zero(flags)) {
      d.reg = nr.is_scalar() ? 4 : 1;
      d.arg = d.reg;
      return violation(pc, ViolationKind::HelperArgType, d);
    }
    // Callback iterations see an index below nr_loops (capped at BPF_MAX_LOOPS).
    const std::uint64_t max_index = std::min<std::uint64_t>(nr.value.umax(), kMaxLoops);
    if (max_index > 0) {
      State first = s;
      const RegValue index = RegValue::scalar(ScalarDomain::unsigned_range(0, max_index - 1));
      if (auto c = push_frame(env, first, pc, facts.callback, callback_frame({index, s.reg(3), RegValue{}, RegValue{}})))
        return c;
      out.forks.push_back(Fork{std::move(first), facts.callback});
    }
  }
  if (sig.known) release_args(s, helper, sig, facts, env.options.unprivileged);
  if (helper_changes_packet_data(helper)) invalidate_packet_pointers(s);
  clobber_caller_saved(s);
  RegValue r0 = RegValue::unknown();
  switch (sig.known ? sig.ret : RetType::Integer) {
    case RetType::Integer: break;
    case RetType::PtrToBtfId: {
      if (facts.percpu_type) {
        // RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY (| PTR_MAYBE_NULL for bpf_per_cpu_ptr, whose cpu may not exist).
        const auto type = env.options.kernel_types ? env.options.kernel_types->type(*facts.percpu_type) : std::nullopt;
        if (!type) return violation(pc, ViolationKind::HelperArgType, d);
        r0 = kernel_variable_pointer(*type);
        if (helper == kBpfPerCpuPtr) {
          r0.maybe_null = true;
          r0.id = env.new_id();
        }
        break;
      }
      const auto ret = helper <= kLastKernelHelper ? helper_btf_return(helper) : std::nullopt;
      const auto id = ret && env.options.kernel_types ? env.options.kernel_types->struct_id(ret->struct_name) : std::nullopt;
      if (!id) {
        d.note = ret ? "helpers returning a kernel object pointer (RET_PTR_TO_BTF_ID) without the kernel's BTF"
                     : "helpers returning a kernel object pointer (RET_PTR_TO_BTF_ID)";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      r0 = btf_pointer(*id);
      if (ret->maybe_null) {
        r0.maybe_null = true;
        r0.id = env.new_id();
      }
      break;
    }
    case RetType::PtrToSocketOrNull:
    case RetType::PtrToSockCommonOrNull:
    case RetType::PtrToTcpSockOrNull:
      r0 = RegValue::pointer(sig.ret == RetType::PtrToSocketOrNull       ? RegType::Socket
                             : sig.ret == RetType::PtrToSockCommonOrNull ? RegType::SockCommon
                                                                         : RegType::TcpSock);
      r0.maybe_null = true;
      r0.id = env.new_id();
      if (acquires_socket(helper)) {
        r0.ref = r0.id;  // the acquired pointer: when it is NULL, no reference is held
        s.refs.push_back(r0.ref);
        env.note_ref(r0.ref, pc);
      } else if (casts_socket(helper)) {
        r0.ref = facts.socket_ref;
      }
      break;
    case RetType::Void: r0 = RegValue::not_init(); break;
    case RetType::PtrToMapValue:
      if (!facts.map) {
        d.note = "a map value return without a map argument";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      r0 = RegValue::pointer(RegType::MapValue, *facts.map);
      break;
    case RetType::PtrToMapValueOrNull:
      if (!facts.map) {
        d.note = "a map value return without a map argument";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      if (const auto map = map_info_of(env.options, *facts.map);
          map && (map->type == kMapArrayOfMaps || map->type == kMapHashOfMaps)) {
        // Map-in-map: the value is an inner map, described by the outer map's template.
        if (!map->inner || (*facts.map & kInnerMapBit)) {
          d.note = "map-in-map lookup without an inner map description (MapInfo::inner), or nested deeper than one level";
          return violation(pc, ViolationKind::Unsupported, d);
        }
        r0 = RegValue::pointer(RegType::MapPtr, *facts.map | kInnerMapBit);
      } else if (map && is_sockmap(map->type)) {
        // The kernel's mark_ptr_or_null_reg: a SOCKMAP/SOCKHASH value is PTR_TO_SOCKET, and the lookup
        // acquires it (is_acquire_function): when it is NULL, no reference is held.
        r0 = RegValue::pointer(RegType::Socket);
        r0.maybe_null = true;
        r0.id = env.new_id();
        r0.ref = r0.id;
        s.refs.push_back(r0.ref);
        env.note_ref(r0.ref, pc);
        break;
      } else {
        r0 = RegValue::pointer(RegType::MapValue, *facts.map);
      }
      r0.maybe_null = true;
      r0.id = env.new_id();
      break;
    case RetType::PtrToAllocMemOrNull:
    case RetType::PtrToMemOrNull:
      if (!facts.has_alloc_size) {
        d.note = "a memory return without a constant size argument";
        return violation(pc, ViolationKind::Unsupported, d);
      }
      r0 = RegValue::pointer(sig.ret == RetType::PtrToAllocMemOrNull ? RegType::RingbufMem : RegType::Mem,
                             static_cast<std::uint32_t>(std::min<std::uint64_t>(facts.alloc_size, kMaxHelperMemBytes)));
      r0.maybe_null = true;
      r0.id = env.new_id();
      if (helper == kBpfDynptrData) r0.ref = facts.dynptr_ref;  // a ring buffer dynptr's slice dies with it
      if (sig.ret == RetType::PtrToAllocMemOrNull) {
        r0.ref = r0.id;  // the acquired pointer: when it is NULL, no reference is held
        s.refs.push_back(r0.ref);
        env.note_ref(r0.ref, pc);
      }
      break;
  }
  s.reg(0) = r0;
  out.next_pc = pc + 1;
  return std::nullopt;
}

// Whether the function at `start` (or one it calls or passes as a callback) calls a helper that may
// move packet data (the kernel's changes_pkt_data, propagated through callees). Iterative, each
// function visited once: a hostile program's chain of callees costs no stack and linear time.
template <class Pred>
bool function_calls_helper(const Env& env, std::uint32_t start, Pred helper_matches) {
  const auto& starts = env.cfg.subprog_starts;
  const auto n = static_cast<std::uint32_t>(env.program.size());
  std::vector<bool> seen(n, false);
  std::vector<std::uint32_t> todo{start};
  seen[start] = true;
  while (!todo.empty()) {
    const std::uint32_t fn = todo.back();
    todo.pop_back();
    const auto next = std::upper_bound(starts.begin(), starts.end(), fn);
    const auto end = next == starts.end() ? n : *next;
    for (std::uint32_t pc = fn; pc < end; ++pc) {
      if (env.program.ops[pc] == isa::kNoOp) continue;
      const auto& op = env.program.op(pc);
      const auto& in = env.program.insns[pc];
      if (op.form == Form::Call && helper_matches(static_cast<std::uint32_t>(in.imm))) return true;
      std::int64_t callee = -1;
      if (op.form == Form::CallLocal) callee = vm::branch_target(in, op, pc);
      if (op.form == Form::WideImm && static_cast<isa::LddwSrc>(in.src) == isa::LddwSrc::Func) callee = pc + 1 + in.imm;
      if (callee >= 0 && callee < static_cast<std::int64_t>(n) && !seen[static_cast<std::size_t>(callee)]) {
        seen[static_cast<std::size_t>(callee)] = true;
        todo.push_back(static_cast<std::uint32_t>(callee));
      }
    }
  }
  return false;
}

bool function_changes_packet_data(const Env& env, std::uint32_t start) {
  return function_calls_helper(env, start, helper_changes_packet_data);
}

// Whether the function at `start` (or a callee) may tail-call: then its exit may be the target's exit,
// which returns the target's r0 to the caller (memoised per function).
bool function_tail_calls(Env& env, std::uint32_t start) {
  if (env.tail_calls_memo.size() != env.program.size()) env.tail_calls_memo.assign(env.program.size(), -1);
  auto& m = env.tail_calls_memo[start];
  if (m < 0) m = function_calls_helper(env, start, [](std::uint32_t id) { return id == kBpfTailCall; }) ? 1 : 0;
  return m == 1;
}

// A memory argument of a global function (the kernel's check_mem_reg): NULL, or a pointer (possibly
// null) to `size` bytes the program may read and write. The callee may write them: stack bytes become
// unknown data.
Check check_global_mem_arg(Env& env, State& s, std::uint32_t pc, int r, std::uint32_t size, ViolationDetail d) {
  const RegValue v = s.reg(r);
  if (is_zero(v)) return std::nullopt;
  if (!v.is_pointer()) return violation(pc, ViolationKind::GlobalFuncArg, d);
  s.reg(r).maybe_null = false;
  Check c = check_helper_mem(env.options, s, pc, r, size, size, false, 0, r, env.reads_uninit_stack);
  if (!c) c = check_helper_mem(env.options, s, pc, r, size, size, true, 0, r, env.reads_uninit_stack);
  s.reg(r) = v;
  if (!c) return std::nullopt;
  switch (c->kind) {
    case ViolationKind::HelperArgMemory: d.note = "the stack bytes it points to are not all initialised"; break;
    case ViolationKind::OutOfBounds:
      d.note = v.type == RegType::Stack ? "that many bytes from it do not fit in the stack frame"
                                        : "the object it points into has fewer bytes from there";
      break;
    case ViolationKind::ReadOnlyWrite: d.note = "the memory is read only (the callee may write it)"; break;
    case ViolationKind::Unsupported: d.note = c->detail.note; break;
    case ViolationKind::UnknownMap: case ViolationKind::PointerLeak: case ViolationKind::SpinLock: case ViolationKind::Timer:
      return c;
    default: break;
  }
  return violation(pc, ViolationKind::GlobalFuncArg, d);
}

// A call to a global function (the kernel's check_func_call for a global subprog): the arguments
// against the prototype, then r1-r5 clobbered and r0 an unknown scalar; the callee is verified once,
// on its own, after the caller.
Check call_global(Env& env, State& s, std::uint32_t pc, const GlobalFunc& g, Successors& out) {
  ViolationDetail d;
  d.other_pc = g.pc;
  if (s.lock.held) {
    d.note = "global function calls are not allowed while holding a lock, use static function instead";
    return violation(pc, ViolationKind::GlobalFunc, d);
  }
  if (!g.unsupported.empty()) {
    d.note = g.unsupported;
    return violation(pc, ViolationKind::GlobalFunc, d);
  }
  for (std::size_t i = 0; i < g.params.size() && i < 5; ++i) {
    const int r = static_cast<int>(i) + 1;
    ViolationDetail da = d;
    da.reg = r;
    da.arg = static_cast<int>(i);
    const RegValue& v = s.reg(r);
    const GlobalArg& a = g.params[i];
    switch (a.kind) {
      case GlobalArgKind::Scalar:
        if (!v.is_scalar()) return violation(pc, ViolationKind::GlobalFuncArg, da);
        break;
      case GlobalArgKind::Ctx:
        if (v.type != RegType::Ctx || !v.value.is_const() || v.value.const_value() != 0)
          return violation(pc, ViolationKind::GlobalFuncArg, da);
        break;
      case GlobalArgKind::Mem:
        da.size = a.size_bytes;
        if (auto c = check_global_mem_arg(env, s, pc, r, a.size_bytes, da)) return c;
        break;
    }
  }
  if (function_changes_packet_data(env, g.pc)) invalidate_packet_pointers(s);
  if (std::find(env.globals_called.begin(), env.globals_called.end(), g.pc) == env.globals_called.end())
    env.globals_called.push_back(g.pc);
  clobber_caller_saved(s);
  s.reg(0) = RegValue::unknown();
  out.next_pc = pc + 1;
  return std::nullopt;
}

Check call_local(Env& env, State& s, std::uint32_t pc, std::uint32_t target, Successors& out) {
  if (const GlobalFunc* g = env.options.global_func(target)) return call_global(env, s, pc, *g, out);
  Frame callee;
  for (int r = 1; r <= 5; ++r) callee.regs[static_cast<std::size_t>(r)] = s.reg(r);
  if (auto c = push_frame(env, s, pc, target, std::move(callee))) return c;
  out.next_pc = target;
  return std::nullopt;
}

}  // namespace

bool helper_changes_packet_data(std::uint32_t id) {
  switch (id) {
    // bpf_tail_call: the target may move the packet head; when a subprogram tail-calls, the target's
    // exit returns into the subprogram's caller (CVE-2024-58237: the kernel invalidates packet pointers).
    case kBpfTailCall:
    case 9: case 10: case 11: case 13: case 18: case 19: case 31: case 38: case 39: case 43: case 44:
    case 50: case 54: case 63: case 65: case 73: case 74: case 75: case 76: case 90: case 91:
      return true;
    default:
      return false;
  }
}

void invalidate_packet_pointers(State& s) {
  // clear_all_pkt_pointers: skb/xdp dynptr slices point into the packet too (reg_is_dynptr_slice_pkt).
  auto packet = [](const RegValue& v) {
    return v.type == RegType::Packet || v.type == RegType::PacketEnd || v.type == RegType::PacketMeta ||
           (v.type == RegType::Mem && v.packet_slice);
  };
  auto kill = [](RegValue& v) { v = RegValue::unknown(); };
  s.frames.update_values(packet, kill, kill);
  s.packet_bytes = 0;
  s.meta_bytes = 0;
  s.packet_ranges.clear();
}

void clobber_caller_saved_regs(State& s) {
  for (int r = 1; r <= 5; ++r) s.reg(r) = RegValue::not_init();
}

Check transfer_call(Env& env, State& s, std::uint32_t pc, Successors& out) {
  const auto& op = env.program.op(pc);
  const auto& in = env.program.insns[pc];
  switch (op.form) {
    case Form::Call: return call_helper(env, s, pc, static_cast<std::uint32_t>(in.imm), out);
    case Form::CallKfunc: return call_kfunc(env, s, pc, out);
    case Form::CallLocal:
      return call_local(env, s, pc, static_cast<std::uint32_t>(vm::branch_target(in, op, pc)), out);
    case Form::CallReg: {
      if (auto c = check_reg_init(s, in.dst, pc)) return c;
      const RegValue v = s.reg(in.dst);
      if (v.type == RegType::FuncPtr) return call_local(env, s, pc, v.aux, out);
      if (v.is_scalar() && v.value.is_const() && v.value.const_value() <= 0xffffffffu)
        return call_helper(env, s, pc, static_cast<std::uint32_t>(v.value.const_value()), out);
      ViolationDetail d;
      d.reg = in.dst;
      d.note = "callx through a register that does not hold one known function";
      return violation(pc, ViolationKind::Unsupported, d);
    }
    case Form::Alu: case Form::AluUnary: case Form::Load: case Form::LoadSx: case Form::Store:
    case Form::StoreReg: case Form::Atomic: case Form::WideImm: case Form::Jump: case Form::Ja:
    case Form::Ja32: case Form::Exit: case Form::PacketLoad:
      break;
  }
  return violation(pc, ViolationKind::Unsupported);
}

Check transfer_exit(Env& env, State& s, std::uint32_t pc, Successors& out) {
  // A static subprogram may leave r0 unset (clang drops `return 0` when no caller reads it); the
  // caller's read of r0 is checked instead, as the kernel's prepare_func_exit does.
  if (s.frames.size() == 1 || s.top().callback)
    if (auto c = check_reg_init(s, 0, pc)) return c;
  const RegValue r0 = s.reg(0);
  ViolationDetail d;
  d.reg = 0;
  if (s.lock.held && (s.frames.size() == 1 || s.top().callback)) {
    d.note = s.frames.size() == 1 ? "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"
                                  : "a callback cannot return inside a bpf_spin_lock-ed region";
    return violation(pc, ViolationKind::SpinLock, d);
  }
  if (s.frames.size() == 1) {
    if (!s.refs.empty()) {
      d.limit = s.refs.front();
      d.other_pc = env.ref_site(s.refs.front());
      return violation(pc, ViolationKind::UnreleasedReference, d);
    }
    if (r0.is_pointer() && env.options.unprivileged) return violation(pc, ViolationKind::PointerLeak, d);
    if (env.root && !r0.is_scalar()) {  // the kernel's check_return_code for a global subprog
      d.other_pc = env.root->pc;
      d.note = "At subprogram exit the register R0 is not a scalar value";
      return violation(pc, ViolationKind::GlobalFunc, d);
    }
    if (const auto max = env.options.program_type.max_return;
        max && !env.root && (!r0.is_scalar() || r0.value.umax() > *max || r0.value.umin() < env.options.program_type.min_return)) {
      d.off_min = static_cast<std::int64_t>(env.options.program_type.min_return);
      d.limit = static_cast<std::int64_t>(*max);
      d.note = "At program exit";
      return violation(pc, ViolationKind::InvalidReturn, d);
    }
    out.ends = true;
    return std::nullopt;
  }
  const auto depth = static_cast<std::uint8_t>(s.frames.size() - 1);
  // The kernel refuses every stack pointer here, the caller's included (prepare_func_exit).
  if (r0.type == RegType::Stack) return violation(pc, ViolationKind::StackPointerEscape, d);
  const Frame callee = s.top();
  if (callee.callback) {
    const std::uint64_t max = callee.async_callback ? 0 : 1;  // a timer callback returns 0
    if (!r0.is_scalar() || r0.value.umax() > max) {
      d.limit = static_cast<std::int64_t>(max);
      return violation(pc, ViolationKind::InvalidReturn, d);
    }
  }
  if (callee.async_callback) {
    // Nothing returns into the caller: the callback runs later, on its own.
    if (!s.refs.empty()) {
      d.limit = s.refs.front();
      d.other_pc = env.ref_site(s.refs.front());
      return violation(pc, ViolationKind::UnreleasedReference, d);
    }
    out.ends = true;
    return std::nullopt;
  }
  s.frames.pop_back();
  // Pointers into the popped frame's stack die with it.
  s.frames.update_values([depth](const RegValue& v) { return v.type == RegType::Stack && v.frame == depth; },
                         [](RegValue& v) { v = RegValue::not_init(); }, [](RegValue& v) { v = RegValue::unknown(); });
  clobber_caller_saved(s);
  out.next_pc = callee.callsite + 1;
  if (callee.callback) {
    // bpf_loop, bpf_for_each_map_elem and bpf_find_vma may call the callback again with the caller's state as this
    // iteration left it.
    State again = s;
    Frame next = callback_frame(callee.callback_args);
    next.callback_iteration = callee.callback_iteration + 1;
    if (auto c = push_frame(env, again, callee.callsite, callee.entry_pc, std::move(next))) return c;
    out.forks.push_back(Fork{std::move(again), callee.entry_pc});
    s.reg(0) = RegValue::unknown();
  } else if (function_tail_calls(env, callee.entry_pc)) {
    // A tail call in the callee continues in another program whose exit comes back here with its own r0.
    s.reg(0) = RegValue::unknown();
  } else {
    s.reg(0) = r0;
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier
