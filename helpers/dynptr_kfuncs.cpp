// The generic dynptr kfuncs (kernel/bpf/helpers.c, registered for every program type) on bpfvm's
// dynptrs (helpers/dynptr.hpp: a local one from bpf_dynptr_from_mem, drain's sample): bpf_dynptr_size,
// bpf_dynptr_is_null, bpf_dynptr_is_rdonly, bpf_dynptr_adjust, bpf_dynptr_slice, bpf_dynptr_clone. None
// of bpfvm's dynptrs is read-only (the kernel marks only skb/xdp ones so). bpf_dynptr_slice_rdwr is not
// registered: the 6.18 test kernel refuses every call of it on a local dynptr, from xdp and tc too
// ("bpf_dynptr_slice_rdwr() is not allowed", EPERM), so bpfvm refuses it as not supported yet.
#include <cerrno>
#include <cstring>
#include <string>

#include "helpers/dynptr.hpp"
#include "helpers/guest_memory.hpp"
#include "helpers/kfunc_table.hpp"

namespace bpfvm::helpers::detail {
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

// bool bpf_dynptr_is_rdonly(const struct bpf_dynptr *p): false for a null one and for every bpfvm dynptr.
std::uint64_t dynptr_is_rdonly(std::uint64_t p, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  bool foreign = false;
  (void)dynptr_of(run, p, "bpf_dynptr_is_rdonly", foreign);
  return 0;
}

// __u32 bpf_dynptr_size(const struct bpf_dynptr *p): the size, or (u32)-EINVAL for a null dynptr.
std::uint64_t dynptr_size(std::uint64_t p, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_size", foreign);
  if (d == nullptr) return 0;
  return d->data == nullptr ? static_cast<std::uint32_t>(-EINVAL) : d->size;
}

// int bpf_dynptr_adjust(const struct bpf_dynptr *p, u32 start, u32 end): the dynptr becomes
// [start, end) of what it named; null or start > end -EINVAL, either past the size -ERANGE.
std::uint64_t dynptr_adjust(std::uint64_t p, std::uint64_t start, std::uint64_t end, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  DynptrKern* d = mutable_dynptr(run, p, "bpf_dynptr_adjust");
  if (d == nullptr) return 0;
  const auto start32 = static_cast<std::uint32_t>(start), end32 = static_cast<std::uint32_t>(end);
  if (d->data == nullptr || start32 > end32) return ret(-EINVAL);
  if (start32 > d->size || end32 > d->size) return ret(-ERANGE);
  d->offset += start32;
  d->size = end32 - start32;
  return 0;
}

// bpf_dynptr_slice(p, offset, buffer__opt, buffer__szk): a read-only pointer to the dynptr's bytes
// [offset, offset + szk), or NULL for a null dynptr or a range past its end. Local memory is handed out
// directly (the buffer is only for skb/xdp dynptrs, which bpfvm does not have).
std::uint64_t dynptr_slice(std::uint64_t p, std::uint64_t offset, std::uint64_t, std::uint64_t len, std::uint64_t,
                           vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_slice", foreign);
  if (d == nullptr || d->data == nullptr) return 0;
  const auto off32 = static_cast<std::uint32_t>(offset), len32 = static_cast<std::uint32_t>(len);
  if (check_off_len(*d, off32, len32) != 0) return 0;
  std::byte* at = d->data + d->offset + off32;
  if (foreign && !guest_ok(run, reinterpret_cast<std::uintptr_t>(at), len32, false, "bpf_dynptr_slice")) return 0;
  return reinterpret_cast<std::uintptr_t>(at);
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
}

}  // namespace bpfvm::helpers::detail
