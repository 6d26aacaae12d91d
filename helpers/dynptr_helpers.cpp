// The dynptr helpers, on drain's sample dynptr, a local one from bpf_dynptr_from_mem, a ring buffer one
// or a packet one (bpf_dynptr_from_skb/_xdp): bpf_dynptr_from_mem, bpf_dynptr_read, bpf_dynptr_write,
// bpf_dynptr_data (kernel/bpf/helpers.c).
#include <linux/bpf.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "helpers/contexts.hpp"
#include "helpers/dynptr.hpp"
#include "helpers/guest_memory.hpp"
#include "helpers/skb_access.hpp"

namespace bpfvm::helpers::detail {

// The dynptr a helper was given: drain's callback argument (CONST_PTR_TO_DYNPTR) or a stack dynptr
// bpf_dynptr_from_mem initialised. Checked mode confirms the 16 bytes are readable program memory;
// `foreign` is then set for a stack dynptr, whose memory each use checks (guest_ok).
const DynptrKern* dynptr_of(vm::RunContext* run, std::uint64_t p, const char* helper, bool& foreign) {
  foreign = false;
  if (checked(run)) {
    const vm::Region* r = run->region_allowing(static_cast<std::uintptr_t>(p), sizeof(DynptrKern), false);
    foreign = r == nullptr || r->what != kDynptrRegion || r->begin != p;
    if (foreign && !run->allowed(static_cast<std::uintptr_t>(p), sizeof(DynptrKern), false)) {
      fault(run, std::string(helper) + ": " + hex(p) + " is not a readable bpf_dynptr");
      return nullptr;
    }
  }
  return reinterpret_cast<const DynptrKern*>(static_cast<std::uintptr_t>(p));
}

// bpf_dynptr_check_off_len.
int check_off_len(const DynptrKern& d, std::uint64_t offset, std::uint64_t len) {
  if (offset > dynptr_len(d) || len > dynptr_len(d) - offset) return -E2BIG;
  return 0;
}

std::byte* packet_dynptr_bytes(vm::RunContext* run, const DynptrKern& d, std::uint32_t off, std::uint32_t len,
                               const char* helper) {
  const HelperRun* s = run_state(run);
  std::uint64_t begin = 0, end = 0;
  const auto ctx = reinterpret_cast<std::uintptr_t>(d.data);
  if (dynptr_kind(d) == kDynptrSkb && s != nullptr && s->skb != nullptr && reinterpret_cast<std::uintptr_t>(s->skb) == ctx) {
    begin = s->skb->data;
    end = s->skb->data_end;
  } else if (dynptr_kind(d) == kDynptrXdp && s != nullptr && s->xdp != nullptr &&
             reinterpret_cast<std::uintptr_t>(s->xdp) == ctx) {
    begin = s->xdp->data;
    end = s->xdp->data_end;
  } else {
    fault(run, std::string(helper) + ": the packet dynptr names no context of this run");
    return nullptr;
  }
  const std::uint64_t at = std::uint64_t{d.offset} + off;
  if (at + len > end - begin) return nullptr;
  return reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(begin + at));
}

namespace {

using vm::ArgType;
using vm::RetType;

// bpf_dynptr_read / bpf_dynptr_write: len bytes between program memory `mem` and the dynptr's bytes at
// `offset` (both u32), in the kernel's order of checks: a null dynptr (and a read's flags, a write's
// read-only dynptr) -EINVAL, past the dynptr -E2BIG, then by kind: memory dynptrs refuse flags
// (-EINVAL); an skb's write takes bpf_skb_store_bytes' flags, an xdp's none; a packet read past the
// packet as it is now is -EFAULT with `mem` zeroed (skb: __bpf_skb_load_bytes) or -EINVAL (xdp:
// bpf_xdp_pointer), a write there -ENOMEM (skb: bpf_try_make_writable) or -EINVAL (xdp).
std::uint64_t dynptr_copy(vm::RunContext* run, std::uint64_t dynptr, std::uint64_t mem, std::uint64_t len,
                          std::uint64_t offset, std::uint64_t flags, bool to_sample) {
  const char* helper = to_sample ? "bpf_dynptr_write" : "bpf_dynptr_read";
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, dynptr, helper, foreign);
  if (d == nullptr || !guest_ok(run, mem, len, !to_sample, helper)) return 0;
  if (d->data == nullptr || (to_sample ? dynptr_rdonly(*d) : flags != 0)) return ret(-EINVAL);
  const auto len32 = static_cast<std::uint32_t>(len), off32 = static_cast<std::uint32_t>(offset);
  if (const int e = check_off_len(*d, off32, len32)) return ret(e);
  const std::uint32_t kind = dynptr_kind(*d);
  std::byte* at = nullptr;
  if (kind == kDynptrSkb || kind == kDynptrXdp) {
    constexpr std::uint64_t kSkbWriteFlags = BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH;
    if (to_sample && (kind == kDynptrXdp ? flags != 0 : (flags & ~kSkbWriteFlags) != 0)) return ret(-EINVAL);
    if (kind == kDynptrSkb && std::uint64_t{d->offset} + off32 > INT_MAX) {
      if (!to_sample) std::memset(ptr(mem), 0, len32);
      return ret(-EFAULT);
    }
    if (kind == kDynptrXdp && (std::uint64_t{d->offset} + off32 > 0xffff || len32 > 0xffff)) return ret(-EFAULT);
    at = packet_dynptr_bytes(run, *d, off32, len32, helper);
    if (at == nullptr) {
      if (run->faulted()) return 0;
      if (kind == kDynptrXdp) return ret(-EINVAL);
      if (to_sample) return ret(-ENOMEM);
      std::memset(ptr(mem), 0, len32);
      return ret(-EFAULT);
    }
    if (to_sample && kind == kDynptrSkb && (flags & BPF_F_INVALIDATE_HASH)) {
      clear_hash(*run_state(run)->skb);
    }
  } else {
    if (to_sample && flags != 0) return ret(-EINVAL);
    at = d->data + d->offset + off32;
    if (foreign && !guest_ok(run, reinterpret_cast<std::uintptr_t>(at), len32, to_sample, helper)) return 0;
  }
  if (to_sample) std::memmove(at, ptr(mem), len32);
  else std::memmove(ptr(mem), at, len32);
  return 0;
}

std::uint64_t dynptr_read(std::uint64_t dst, std::uint64_t len, std::uint64_t src, std::uint64_t offset,
                          std::uint64_t flags, vm::RunContext* run) {
  return dynptr_copy(run, src, dst, len, offset, flags, false);
}

std::uint64_t dynptr_write(std::uint64_t dst, std::uint64_t offset, std::uint64_t src, std::uint64_t len,
                           std::uint64_t flags, vm::RunContext* run) {
  return dynptr_copy(run, dst, src, len, offset, flags, true);
}

// bpf_dynptr_data(ptr, offset, len): the bytes themselves, or NULL when they are not all inside; always
// NULL for a packet dynptr (the kernel points programs to bpf_dynptr_slice for those).
std::uint64_t dynptr_data(std::uint64_t p, std::uint64_t offset, std::uint64_t len, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_data", foreign);
  if (d == nullptr || d->data == nullptr || dynptr_is_packet(*d)) return 0;
  const auto len32 = static_cast<std::uint32_t>(len), off32 = static_cast<std::uint32_t>(offset);
  if (check_off_len(*d, off32, len32) != 0) return 0;
  return reinterpret_cast<std::uintptr_t>(d->data + d->offset + off32);
}

// bpf_dynptr_from_mem(data, size, flags, ptr): a local dynptr over size bytes of program memory; flags
// -EINVAL and a size past DYNPTR_MAX_SIZE -E2BIG, both leaving a null dynptr (the later helpers' -EINVAL).
std::uint64_t dynptr_from_mem(std::uint64_t data, std::uint64_t size, std::uint64_t flags, std::uint64_t p,
                              std::uint64_t, vm::RunContext* run) {
  if (!guest_ok(run, p, sizeof(DynptrKern), true, "bpf_dynptr_from_mem")) return 0;
  auto* d = reinterpret_cast<DynptrKern*>(static_cast<std::uintptr_t>(p));
  const auto size32 = static_cast<std::uint32_t>(size);
  const int err = flags != 0 ? -EINVAL : size32 > kDynptrMaxSize ? -E2BIG : 0;
  if (err == 0 && !guest_ok(run, data, size32, false, "bpf_dynptr_from_mem")) return 0;
  *d = err != 0 ? DynptrKern{nullptr, 0, 0} : DynptrKern{reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(data)), size32, 0};
  return ret(err);
}

}  // namespace

void add_dynptr_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_dynptr_from_mem, "bpf_dynptr_from_mem", dynptr_from_mem, rt, RetType::Integer,
                {ArgType::PtrToMem, ArgType::ConstSizeOrZero, ArgType::Anything, ArgType::PtrToDynptr}));
  reg.add(entry(BPF_FUNC_dynptr_read, "bpf_dynptr_read", dynptr_read, rt, RetType::Integer,
                {ArgType::PtrToUninitMem, ArgType::ConstSizeOrZero, ArgType::PtrToDynptr, ArgType::Anything,
                 ArgType::Anything}));
  reg.add(entry(BPF_FUNC_dynptr_write, "bpf_dynptr_write", dynptr_write, rt, RetType::Integer,
                {ArgType::PtrToDynptr, ArgType::Anything, ArgType::PtrToMem, ArgType::ConstSizeOrZero,
                 ArgType::Anything}));
  reg.add(entry(BPF_FUNC_dynptr_data, "bpf_dynptr_data", dynptr_data, rt, RetType::PtrToMemOrNull,
                {ArgType::PtrToDynptr, ArgType::Anything, ArgType::ConstAllocSizeOrZero}));
}

}  // namespace bpfvm::helpers::detail
