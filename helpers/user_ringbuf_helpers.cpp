// bpf_user_ringbuf_drain over maps::UserRingbufMap (kernel/bpf/ringbuf.c): each sample reaches the
// callback as a dynptr (helpers/dynptr.hpp) that the dynptr helpers read.
#include <linux/bpf.h>

#include <array>
#include <cerrno>

#include "helpers/dynptr.hpp"
#include "helpers/guest_memory.hpp"
#include "maps/map.hpp"
#include "maps/map_spec.hpp"
#include "maps/user_ringbuf_map.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr long kMaxUserRingbufSamples = 128 * 1024;  // BPF_MAX_USER_RINGBUF_SAMPLES

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

}  // namespace

void add_user_ringbuf_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_user_ringbuf_drain, "bpf_user_ringbuf_drain", user_ringbuf_drain, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToFunc, ArgType::PtrToStack, ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
