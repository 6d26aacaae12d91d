// bpf_user_ringbuf_drain (over maps::UserRingbufMap), bpf_dynptr_from_mem, and the dynptr helpers
// taking drain's sample dynptr or a local one: bpf_dynptr_read, bpf_dynptr_write, bpf_dynptr_data
// (kernel/bpf/ringbuf.c, kernel/bpf/helpers.c).
#include <linux/bpf.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "helpers/guest_memory.hpp"
#include "maps/map.hpp"
#include "maps/map_spec.hpp"
#include "maps/user_ringbuf_map.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr long kMaxUserRingbufSamples = 128 * 1024;  // BPF_MAX_USER_RINGBUF_SAMPLES

// The kernel's struct bpf_dynptr_kern (16 bytes, what struct bpf_dynptr holds): the memory, its size
// and the offset into it. Drain makes one over each sample on the host stack for the callback's
// duration; bpf_dynptr_from_mem fills one in the program's stack (the verifier keeps the program from
// reading or storing its bytes; checked runs still confirm the memory it names on every use).
struct DynptrKern {
  std::byte* data;
  std::uint32_t size;
  std::uint32_t offset;
};
static_assert(sizeof(DynptrKern) == 16);

constexpr std::uint32_t kDynptrMaxSize = (1u << 24) - 1;  // DYNPTR_MAX_SIZE

// Names the checked-mode Region drain adds for its dynptr, so the dynptr helpers recognise it.
constexpr const char* kDynptrRegion = "bpf_user_ringbuf_drain dynptr";

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
  if (offset > d.size || len > d.size - offset) return -E2BIG;
  return 0;
}

// bpf_user_ringbuf_drain(map, callback_fn, ctx, flags): callback(dynptr, ctx) per published sample,
// oldest first, while it returns 0 (at most BPF_MAX_USER_RINGBUF_SAMPLES); discarded samples are
// consumed without a call. Returns the samples passed to the callback, or the first bad record's errno.
std::uint64_t user_ringbuf_drain(std::uint64_t m, std::uint64_t fn, std::uint64_t cb_ctx, std::uint64_t flags,
                                 std::uint64_t, vm::RunContext* run) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != maps::MapType::UserRingbuf)
    return fault(run, "bpf_user_ringbuf_drain: map is " + maps::map_type_name(map->type()) +
                          ", not BPF_MAP_TYPE_USER_RINGBUF");
  if (run->invoke_callback == nullptr)
    return fault(run, "bpf_user_ringbuf_drain: the engine provides no callback hook (not supported yet)");
  if (flags & ~(maps::kBpfRbNoWakeup | maps::kBpfRbForceWakeup)) return ret(-EINVAL);
  auto* rb = static_cast<maps::UserRingbufMap*>(map);
  if (!rb->begin_drain()) return ret(-EBUSY);
  long samples = 0, discarded = 0, result = 0;
  int err = 0;
  for (; samples < kMaxUserRingbufSamples && result == 0; ++samples) {
    const auto peeked = rb->peek_sample();
    if (peeked.err == -ENODATA) break;
    if (peeked.err == -EAGAIN) {
      ++discarded;
      continue;
    }
    if (peeked.err != 0) {
      err = peeked.err;
      break;
    }
    DynptrKern dynptr{peeked.sample, peeked.size_bytes, 0};
    const auto at = reinterpret_cast<std::uintptr_t>(&dynptr);
    if (checked(run)) run->regions.push_back(vm::Region{at, sizeof dynptr, false, kDynptrRegion});
    const std::array<std::uint64_t, 5> args{at, cb_ctx, 0, 0, 0};
    auto r = run->call_back(fn, std::span<const std::uint64_t, 5>(args));
    if (checked(run)) run->regions.pop_back();
    rb->release_sample(peeked.size_bytes);
    if (!r) {
      rb->end_drain();
      return fault(run, "bpf_user_ringbuf_drain callback: " + r.error().message());
    }
    result = static_cast<long>(*r);
  }
  rb->end_drain();
  return ret(err != 0 ? err : samples - discarded);
}

// bpf_dynptr_read / bpf_dynptr_write: len bytes between program memory `mem` and the sample at
// `offset` (both u32): flags -EINVAL, past the sample -E2BIG.
std::uint64_t dynptr_copy(vm::RunContext* run, std::uint64_t dynptr, std::uint64_t mem, std::uint64_t len,
                          std::uint64_t offset, std::uint64_t flags, bool to_sample) {
  const char* helper = to_sample ? "bpf_dynptr_write" : "bpf_dynptr_read";
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, dynptr, helper, foreign);
  if (d == nullptr || !guest_ok(run, mem, len, !to_sample, helper)) return 0;
  if (d->data == nullptr || flags) return ret(-EINVAL);
  const auto len32 = static_cast<std::uint32_t>(len), off32 = static_cast<std::uint32_t>(offset);
  if (const int e = check_off_len(*d, off32, len32)) return ret(e);
  std::byte* at = d->data + d->offset + off32;
  if (foreign && !guest_ok(run, reinterpret_cast<std::uintptr_t>(at), len32, to_sample, helper)) return 0;
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

// bpf_dynptr_data(ptr, offset, len): the bytes themselves, or NULL when they are not all inside.
std::uint64_t dynptr_data(std::uint64_t p, std::uint64_t offset, std::uint64_t len, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  bool foreign = false;
  const DynptrKern* d = dynptr_of(run, p, "bpf_dynptr_data", foreign);
  if (d == nullptr || d->data == nullptr) return 0;
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

void add_user_ringbuf_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_user_ringbuf_drain, "bpf_user_ringbuf_drain", user_ringbuf_drain, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToFunc, ArgType::PtrToStack, ArgType::Anything}));
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
