// Ring buffer helpers (over maps::RingbufMap), their dynptr forms (bpf_ringbuf_*_dynptr) and
// bpf_perf_event_output (over maps::PerfEventArrayMap).
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "helpers/contexts.hpp"
#include "helpers/dynptr.hpp"
#include "helpers/guest_memory.hpp"
#include "maps/map.hpp"
#include "maps/perf_event_array_map.hpp"
#include "maps/ringbuf_map.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

maps::RingbufMap* ringbuf_of(vm::RunContext* run, std::uint64_t m, const char* helper) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != maps::MapType::Ringbuf) {
    fault(run, std::string(helper) + ": map is " + maps::map_type_name(map->type()) + ", not BPF_MAP_TYPE_RINGBUF");
    return nullptr;
  }
  return static_cast<maps::RingbufMap*>(map);
}

std::uint64_t ringbuf_output(std::uint64_t m, std::uint64_t data, std::uint64_t size, std::uint64_t flags,
                             std::uint64_t, vm::RunContext* run) {
  auto* rb = ringbuf_of(run, m, "bpf_ringbuf_output");
  if (rb == nullptr || !guest_ok(run, data, size, false, "bpf_ringbuf_output data")) return 0;
  return ret(rb->output(ptr(data), size, flags));
}

std::uint64_t ringbuf_reserve(std::uint64_t m, std::uint64_t size, std::uint64_t flags, std::uint64_t,
                              std::uint64_t, vm::RunContext* run) {
  auto* rb = ringbuf_of(run, m, "bpf_ringbuf_reserve");
  if (rb == nullptr) return 0;
  return reinterpret_cast<std::uintptr_t>(rb->reserve(size, flags));
}

// submit/discard: the sample must be a live reservation (the verifier tracks the reference);
// checked mode confirms it lies in ring buffer memory before touching its header.
std::uint64_t ringbuf_commit(std::uint64_t sample, std::uint64_t flags, vm::RunContext* run, bool discard) {
  const char* name = discard ? "bpf_ringbuf_discard" : "bpf_ringbuf_submit";
  if (sample == 0) return fault(run, std::string(name) + ": sample is NULL");
  if (!guest_ok(run, sample, 1, true, name)) return 0;
  auto* rb = maps::RingbufMap::from_sample(ptr(sample));
  if (discard) rb->discard(ptr(sample), flags);
  else rb->submit(ptr(sample), flags);
  return 0;
}

// bpf_ringbuf_reserve_dynptr(map, size, flags, ptr): the record as bpf_ringbuf_reserve's, behind a
// dynptr in the program's stack; flags -EINVAL, a size past DYNPTR_MAX_SIZE -E2BIG, no room -EINVAL,
// each leaving a null dynptr (kernel/bpf/ringbuf.c). The verifier holds the program to submitting or
// discarding it either way.
std::uint64_t ringbuf_reserve_dynptr(std::uint64_t m, std::uint64_t size, std::uint64_t flags, std::uint64_t p,
                                     std::uint64_t, vm::RunContext* run) {
  const char* name = "bpf_ringbuf_reserve_dynptr";
  auto* rb = ringbuf_of(run, m, name);
  if (rb == nullptr || !guest_ok(run, p, sizeof(DynptrKern), true, name)) return 0;
  auto* d = reinterpret_cast<DynptrKern*>(static_cast<std::uintptr_t>(p));
  *d = DynptrKern{nullptr, 0, 0};
  const auto size32 = static_cast<std::uint32_t>(size);
  if (flags != 0) return ret(-EINVAL);
  if (size32 > kDynptrMaxSize) return ret(-E2BIG);
  void* sample = rb->reserve(size32, 0);
  if (sample == nullptr) return ret(-EINVAL);
  *d = DynptrKern{static_cast<std::byte*>(sample), size32, 0};
  return 0;
}

// bpf_ringbuf_submit_dynptr / discard_dynptr: commit the record a reserved dynptr names (a null one,
// from a failed reservation, commits nothing) and make the dynptr null.
std::uint64_t ringbuf_commit_dynptr(std::uint64_t p, std::uint64_t flags, vm::RunContext* run, bool discard) {
  const char* name = discard ? "bpf_ringbuf_discard_dynptr" : "bpf_ringbuf_submit_dynptr";
  if (!guest_ok(run, p, sizeof(DynptrKern), true, name)) return 0;
  auto* d = reinterpret_cast<DynptrKern*>(static_cast<std::uintptr_t>(p));
  if (d->data == nullptr) return 0;
  const auto sample = reinterpret_cast<std::uintptr_t>(d->data);
  *d = DynptrKern{nullptr, 0, 0};
  return ringbuf_commit(sample, flags, run, discard);
}

// The helper-table entries of a commit function: its submit (Discard false) and discard forms.
template <std::uint64_t (*Commit)(std::uint64_t, std::uint64_t, vm::RunContext*, bool), bool Discard>
std::uint64_t commit_entry(std::uint64_t arg, std::uint64_t flags, std::uint64_t, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  return Commit(arg, flags, run, Discard);
}

std::uint64_t ringbuf_query(std::uint64_t m, std::uint64_t flags, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  auto* rb = ringbuf_of(run, m, "bpf_ringbuf_query");
  return rb == nullptr ? 0 : rb->query(flags);
}

// The packet bytes BPF_F_CTXLEN_MASK asks a networking program's bpf_perf_event_output to append
// (net/core/filter.c bpf_xdp_event_output / bpf_skb_event_output): the first N bytes from data.
// -EINVAL for flag bits outside CTXLEN and the index, -EFAULT when N exceeds the packet (XDP: the
// frame from data, skb->len for an skb). Other contexts take bpf_trace.c's path, where the CTXLEN
// bits are -EINVAL (the map's flag check); so does an skb or XDP run whose r1 is not its context.
long perf_ctx_bytes(vm::RunContext* run, std::uint64_t ctx, std::uint64_t flags, std::span<const std::uint8_t>& out) {
  const HelperRun* s = run_state(run);
  const bool xdp = s != nullptr && s->xdp != nullptr && reinterpret_cast<std::uintptr_t>(s->xdp) == ctx;
  const bool skb = s != nullptr && s->skb != nullptr && reinterpret_cast<std::uintptr_t>(s->skb) == ctx;
  if (!xdp && !skb) return 0;
  if (flags & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK)) return -EINVAL;
  const std::uint64_t n = (flags & BPF_F_CTXLEN_MASK) >> 32;
  const std::uint64_t data = xdp ? s->xdp->data : s->skb->data;
  const std::uint64_t linear = xdp ? s->xdp->data_end - data : s->skb->data_end - data;
  if (n > linear || (skb && n > s->skb->md.len)) return -EFAULT;
  out = {reinterpret_cast<const std::uint8_t*>(ptr(data)), n};
  return 0;
}

// bpf_perf_event_output(ctx, map, flags, data, size): maps::PerfEventArrayMap::output does the
// kernel's checks (-EINVAL flags, -E2BIG index, -ENOENT no event); XDP and skb programs may append
// packet bytes (perf_ctx_bytes).
std::uint64_t perf_event_output(std::uint64_t ctx, std::uint64_t m, std::uint64_t flags, std::uint64_t data,
                                std::uint64_t size, vm::RunContext* run) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() != maps::MapType::PerfEventArray)
    return fault(run, "map is " + maps::map_type_name(map->type()) +
                          ", not BPF_MAP_TYPE_PERF_EVENT_ARRAY");
  if (!guest_ok(run, data, size, false, "bpf_perf_event_output data")) return 0;
  std::span<const std::uint8_t> ctx_bytes;
  if (long err = perf_ctx_bytes(run, ctx, flags, ctx_bytes)) return ret(err);
  if (!ctx_bytes.empty()) flags &= ~std::uint64_t{BPF_F_CTXLEN_MASK};
  const std::span<const std::uint8_t> record(reinterpret_cast<const std::uint8_t*>(ptr(data)), size);
  return ret(static_cast<maps::PerfEventArrayMap*>(map)->output(flags, record, ctx_bytes));
}

maps::PerfEventArrayMap* perf_array_of(vm::RunContext* run, std::uint64_t m) {
  auto* map = reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(m));
  if (map->type() == maps::MapType::PerfEventArray) return static_cast<maps::PerfEventArrayMap*>(map);
  fault(run, "map is " + maps::map_type_name(map->type()) + ", not BPF_MAP_TYPE_PERF_EVENT_ARRAY");
  return nullptr;
}

// bpf_perf_event_read(map, flags): the counter, or a negative errno (maps::PerfEventArrayMap::read).
std::uint64_t perf_event_read(std::uint64_t m, std::uint64_t flags, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  auto* map = perf_array_of(run, m);
  return map == nullptr ? 0 : ret(map->read(flags));
}

// bpf_perf_event_read_value(map, flags, buf, size): -EINVAL unless size is sizeof(struct
// bpf_perf_event_value); on every error buf is zeroed, as the kernel does.
std::uint64_t perf_event_read_value(std::uint64_t m, std::uint64_t flags, std::uint64_t buf, std::uint64_t size,
                                    std::uint64_t, vm::RunContext* run) {
  auto* map = perf_array_of(run, m);
  if (map == nullptr || !guest_ok(run, buf, size, true, "bpf_perf_event_read_value buf")) return 0;
  const int err = size != sizeof(bpf_perf_event_value) ? -EINVAL : map->read(flags);
  if (err == 0) return 0;  // unreachable today: read() has no counter to fill buf from
  std::memset(ptr(buf), 0, size);
  return ret(err);
}

}  // namespace

void add_ringbuf_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_ringbuf_output, "bpf_ringbuf_output", ringbuf_output, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToMem, ArgType::ConstSizeOrZero, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve", ringbuf_reserve, rt, RetType::PtrToAllocMemOrNull,
                {ArgType::ConstMapPtr, ArgType::ConstAllocSizeOrZero, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_ringbuf_submit, "bpf_ringbuf_submit", commit_entry<ringbuf_commit, false>, rt, RetType::Void,
                {ArgType::PtrToRingbufMem, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_ringbuf_discard, "bpf_ringbuf_discard", commit_entry<ringbuf_commit, true>, rt, RetType::Void,
                {ArgType::PtrToRingbufMem, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_ringbuf_query, "bpf_ringbuf_query", ringbuf_query, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_ringbuf_reserve_dynptr, "bpf_ringbuf_reserve_dynptr", ringbuf_reserve_dynptr, rt,
                RetType::Integer, {ArgType::ConstMapPtr, ArgType::Anything, ArgType::Anything, ArgType::PtrToDynptr}));
  reg.add(entry(BPF_FUNC_ringbuf_submit_dynptr, "bpf_ringbuf_submit_dynptr", commit_entry<ringbuf_commit_dynptr, false>,
                rt, RetType::Void, {ArgType::PtrToDynptr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_ringbuf_discard_dynptr, "bpf_ringbuf_discard_dynptr", commit_entry<ringbuf_commit_dynptr, true>, rt,
                RetType::Void, {ArgType::PtrToDynptr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_perf_event_output, "bpf_perf_event_output", perf_event_output, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::ConstMapPtr, ArgType::Anything, ArgType::PtrToMem,
                 ArgType::ConstSizeOrZero}));
  reg.add(entry(BPF_FUNC_perf_event_read, "bpf_perf_event_read", perf_event_read, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_perf_event_read_value, "bpf_perf_event_read_value", perf_event_read_value, rt,
                RetType::Integer, {ArgType::ConstMapPtr, ArgType::Anything, ArgType::PtrToUninitMem, ArgType::ConstSize}));
}

}  // namespace bpfvm::helpers::detail
