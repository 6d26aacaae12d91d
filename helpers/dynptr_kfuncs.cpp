// The generic dynptr kfuncs (kernel/bpf/helpers.c, registered for every program type) on bpfvm's
// dynptrs (helpers/dynptr.hpp: a local one from bpf_dynptr_from_mem, drain's sample, a ring buffer one,
// a packet one): bpf_dynptr_size, bpf_dynptr_is_null, bpf_dynptr_is_rdonly, bpf_dynptr_adjust,
// bpf_dynptr_slice, bpf_dynptr_clone; and the packet ones (net/core/filter.c): bpf_dynptr_from_skb for
// the __sk_buff types the kernel registers bpf_kfunc_set_skb for, bpf_dynptr_from_xdp for XDP. Only skb
// dynptrs of types that may not write packet data are read-only: api/program.cpp calls
// bpf_dynptr_from_skb_rdonly for them, as the kernel's specialize_kfunc does. bpf_dynptr_slice_rdwr is
// not registered: the 6.18 test kernel refuses every call of it on a local dynptr, from xdp and tc too
// ("bpf_dynptr_slice_rdwr() is not allowed", EPERM), so bpfvm refuses it as not supported yet.
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>

#include "helpers/contexts.hpp"
#include "helpers/dynptr.hpp"
#include "helpers/guest_memory.hpp"
#include "helpers/kfunc_table.hpp"

namespace bpfvm::helpers {

void specialize_kfuncs(vm::Program& program, bool packet_writable) {
  if (packet_writable) return;
  for (auto& k : program.kfuncs)
    if (k.name == "bpf_dynptr_from_skb") k.name = kDynptrFromSkbRdonly;
}

namespace detail {
namespace {

// The dynptr a kfunc will change: readable as for the helpers, and in checked runs a stack dynptr's
// 16 bytes writable too (drain's is the helper's own copy).
DynptrKern* mutable_dynptr(vm::RunContext* run, std::uint64_t p, const char* kfunc) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, kfunc, foreign);
  if (d == nullptr || (foreign && !guest_ok(run, p, sizeof(DynptrKern), true, kfunc))) return nullptr;
  return reinterpret_cast<DynptrKern*>(static_cast<std::uintptr_t>(p));
}

// bool bpf_dynptr_is_null(const struct bpf_dynptr *p): the dynptr names no memory.
std::uint64_t dynptr_is_null(std::uint64_t p, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_is_null", foreign);
  return d != nullptr && d->data == nullptr ? 1 : 0;
}

// bool bpf_dynptr_is_rdonly(const struct bpf_dynptr *p): false for a null one; true only for an skb
// dynptr of a type that may not write packet data.
std::uint64_t dynptr_is_rdonly(std::uint64_t p, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_is_rdonly", foreign);
  return d != nullptr && d->data != nullptr && dynptr_rdonly(*d) ? 1 : 0;
}

// __u32 bpf_dynptr_size(const struct bpf_dynptr *p): the size, or (u32)-EINVAL for a null dynptr.
std::uint64_t dynptr_size(std::uint64_t p, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_size", foreign);
  if (d == nullptr) return 0;
  return d->data == nullptr ? static_cast<std::uint32_t>(-EINVAL) : dynptr_len(*d);
}

// int bpf_dynptr_adjust(const struct bpf_dynptr *p, u32 start, u32 end): the dynptr becomes
// [start, end) of what it named; null or start > end -EINVAL, either past the size -ERANGE.
std::uint64_t dynptr_adjust(std::uint64_t p, std::uint64_t start, std::uint64_t end, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  DynptrKern* d = mutable_dynptr(run, p, "bpf_dynptr_adjust");
  if (d == nullptr) return 0;
  const auto start32 = static_cast<std::uint32_t>(start), end32 = static_cast<std::uint32_t>(end);
  if (d->data == nullptr || start32 > end32) return ret(-EINVAL);
  if (start32 > dynptr_len(*d) || end32 > dynptr_len(*d)) return ret(-ERANGE);
  d->offset += start32;
  d->size = (d->size & ~kDynptrMaxSize) | (end32 - start32);  // kind and read-only bit stay
  return 0;
}

// bpf_dynptr_slice(p, offset, buffer__opt, buffer__szk): a read-only pointer to the dynptr's bytes
// [offset, offset + szk), or NULL for a null dynptr or a range past its end. Memory is handed out
// directly; the kernel copies a packet's bytes into the buffer only when they are not in its linear
// part, and a bpfvm packet is all linear, so a packet slice points into the packet (NULL when the
// bytes are past the packet as it is now: skb_header_pointer / bpf_xdp_pointer).
std::uint64_t dynptr_slice(std::uint64_t p, std::uint64_t offset, std::uint64_t, std::uint64_t len, std::uint64_t,
                           vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_slice", foreign);
  if (d == nullptr || d->data == nullptr) return 0;
  const auto off32 = static_cast<std::uint32_t>(offset), len32 = static_cast<std::uint32_t>(len);
  if (check_off_len(*d, off32, len32) != 0) return 0;
  if (dynptr_is_packet(*d)) return reinterpret_cast<std::uintptr_t>(packet_dynptr_bytes(run, *d, off32, len32, "bpf_dynptr_slice"));
  std::byte* at = d->data + d->offset + off32;
  if (foreign && !guest_ok(run, reinterpret_cast<std::uintptr_t>(at), len32, false, "bpf_dynptr_slice")) return 0;
  return reinterpret_cast<std::uintptr_t>(at);
}

// bpf_dynptr_from_skb(skb, flags, ptr__uninit) / bpf_dynptr_from_xdp(xdp, flags, ptr__uninit): a dynptr
// over the packet (skb->len bytes, xdp_get_buff_len), flags != 0 -EINVAL leaving a null dynptr.
std::uint64_t dynptr_from_packet(vm::RunContext* run, std::uint64_t ctx, std::uint64_t flags, std::uint64_t p,
                                 std::uint32_t kind, bool rdonly, const char* kfunc) {
  if (!guest_ok(run, p, sizeof(DynptrKern), true, kfunc)) return 0;
  const HelperRun* s = run_state(run);
  const std::uintptr_t own = s == nullptr ? 0
                             : kind == kDynptrSkb ? reinterpret_cast<std::uintptr_t>(s->skb)
                                                  : reinterpret_cast<std::uintptr_t>(s->xdp);
  if (own == 0 || own != ctx) return fault(run, std::string(kfunc) + ": r1 is not the program's context");
  DynptrKern d{nullptr, 0, 0};
  if (flags == 0) {
    const std::uint64_t len = kind == kDynptrSkb ? s->skb->md.len : s->xdp->data_end - s->xdp->data;
    d = DynptrKern{reinterpret_cast<std::byte*>(own),
                   static_cast<std::uint32_t>(std::min<std::uint64_t>(len, kDynptrMaxSize)) |
                       (kind << kDynptrKindShift) | (rdonly ? kDynptrRdonlyBit : 0u),
                   0};
  }
  std::memcpy(ptr(p), &d, sizeof d);
  return flags == 0 ? 0 : ret(-EINVAL);
}

std::uint64_t dynptr_from_skb(std::uint64_t ctx, std::uint64_t flags, std::uint64_t p, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  return dynptr_from_packet(run, ctx, flags, p, kDynptrSkb, false, "bpf_dynptr_from_skb");
}

std::uint64_t dynptr_from_skb_rdonly(std::uint64_t ctx, std::uint64_t flags, std::uint64_t p, std::uint64_t,
                                     std::uint64_t, vm::RunContext* run) {
  return dynptr_from_packet(run, ctx, flags, p, kDynptrSkb, true, "bpf_dynptr_from_skb");
}

std::uint64_t dynptr_from_xdp(std::uint64_t ctx, std::uint64_t flags, std::uint64_t p, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  return dynptr_from_packet(run, ctx, flags, p, kDynptrXdp, false, "bpf_dynptr_from_xdp");
}

// int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit): a copy naming
// the same memory; from a null dynptr the clone is null and the result -EINVAL.
std::uint64_t dynptr_clone(std::uint64_t p, std::uint64_t clone, std::uint64_t, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_clone", foreign);
  if (d == nullptr || !guest_ok(run, clone, sizeof(DynptrKern), true, "bpf_dynptr_clone")) return 0;
  const DynptrKern copy = d->data == nullptr ? DynptrKern{nullptr, 0, 0} : *d;
  std::memcpy(ptr(clone), &copy, sizeof copy);
  return d->data == nullptr ? ret(-EINVAL) : 0;
}

}  // namespace

void add_dynptr_kfuncs(vm::HelperRegistry& reg, HelperRuntime& rt) {
  using enum KfuncArg;
  reg.add_kfunc(kfunc_entry("bpf_dynptr_is_null", dynptr_is_null, rt, KfuncRet::Integer, {Dynptr}));
  reg.add_kfunc(kfunc_entry("bpf_dynptr_is_rdonly", dynptr_is_rdonly, rt, KfuncRet::Integer, {Dynptr}));
  reg.add_kfunc(kfunc_entry("bpf_dynptr_size", dynptr_size, rt, KfuncRet::Integer, {Dynptr}));
  reg.add_kfunc(kfunc_entry("bpf_dynptr_adjust", dynptr_adjust, rt, KfuncRet::Integer, {Dynptr, Scalar, Scalar}));
  reg.add_kfunc(kfunc_entry("bpf_dynptr_slice", dynptr_slice, rt, KfuncRet::RdonlyMemOrNull,
                            {Dynptr, Scalar, MemOpt, ConstSize}));
  reg.add_kfunc(kfunc_entry("bpf_dynptr_clone", dynptr_clone, rt, KfuncRet::Integer, {Dynptr, DynptrUninit}));
  // net/core/filter.c's bpf_kfunc_init: bpf_kfunc_set_skb for these types (netfilter and tracing too,
  // which bpfvm does not give an __sk_buff context), bpf_kfunc_set_xdp for XDP.
  reg.add_kfunc(kfunc_entry("bpf_dynptr_from_skb", dynptr_from_skb, rt, KfuncRet::Integer, {Ctx, Scalar, PacketDynptrUninit},
                            {"sched_cls", "sk_skb", "socket_filter", "cgroup_skb", "lwt_out", "lwt_in",
                             "lwt_xmit", "lwt_seg6local"}));
  // What bpf_dynptr_from_skb calls in a type that may not write packet data (api/program.cpp renames
  // the call after verification); no program type may name it itself, as in the kernel.
  reg.add_kfunc(kfunc_entry(kDynptrFromSkbRdonly, dynptr_from_skb_rdonly, rt, KfuncRet::Integer,
                            {Ctx, Scalar, PacketDynptrUninit}, {"(called only through bpf_dynptr_from_skb)"}));
  reg.add_kfunc(kfunc_entry("bpf_dynptr_from_xdp", dynptr_from_xdp, rt, KfuncRet::Integer, {Ctx, Scalar, PacketDynptrUninit},
                            {"xdp"}));
}

}  // namespace detail
}  // namespace bpfvm::helpers
