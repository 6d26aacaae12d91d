// XDP helpers: adjust_head / adjust_meta / adjust_tail and get_buff_len, with the kernel's bounds.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"
#include "helpers/xdp_buffer.hpp"
#include "maps/map_spec.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

constexpr std::uint64_t kEthHlen = 14;            // ETH_HLEN
constexpr std::uint64_t kMetaMax = 255;           // type_max(skb_shared_info.meta_len), kernel >= 6.x

XdpCtx* xdp_of(vm::RunContext* run, std::uint64_t ctx, const char* helper) {
  const HelperRun* s = run_state(run);
  if (s == nullptr || s->xdp == nullptr) {
    fault(run, std::string(helper) + ": this run has no xdp_md context");
    return nullptr;
  }
  if (reinterpret_cast<std::uintptr_t>(s->xdp) != ctx) {
    fault(run, std::string(helper) + ": r1 is not the program's context");
    return nullptr;
  }
  return s->xdp;
}

// bpf_xdp_adjust_head(ctx, delta): data moves by delta (metadata moves with it), staying at least
// sizeof(struct xdp_frame) past the frame start and ETH_HLEN before data_end; else -EINVAL.
std::uint64_t xdp_adjust_head(std::uint64_t ctx, std::uint64_t delta, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  XdpCtx* x = xdp_of(run, ctx, "bpf_xdp_adjust_head");
  if (x == nullptr) return 0;
  const auto off = static_cast<std::int64_t>(static_cast<std::int32_t>(delta));
  const std::uint64_t metalen = x->data - x->data_meta;
  const std::uint64_t data_start = x->hard_start + kXdpFrameBytes + metalen;
  const std::uint64_t data = x->data + static_cast<std::uint64_t>(off);
  if (data < data_start || data > x->data_end - kEthHlen) return ret(-EINVAL);
  if (metalen) std::memmove(ptr(x->data_meta + static_cast<std::uint64_t>(off)), ptr(x->data_meta), metalen);
  x->data_meta += static_cast<std::uint64_t>(off);
  x->data = data;
  sync_xdp(run, *x);
  return 0;
}

// bpf_xdp_adjust_meta(ctx, delta): data_meta moves by delta within [frame start + xdp_frame, data];
// -EINVAL out of range, -EACCES for a length not a multiple of 4 or above 255.
std::uint64_t xdp_adjust_meta(std::uint64_t ctx, std::uint64_t delta, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  XdpCtx* x = xdp_of(run, ctx, "bpf_xdp_adjust_meta");
  if (x == nullptr) return 0;
  const auto off = static_cast<std::int64_t>(static_cast<std::int32_t>(delta));
  const std::uint64_t meta = x->data_meta + static_cast<std::uint64_t>(off);
  if (meta < x->hard_start + kXdpFrameBytes || meta > x->data) return ret(-EINVAL);
  const std::uint64_t metalen = x->data - meta;
  if ((metalen & 3) || metalen > kMetaMax) return ret(-EACCES);
  x->data_meta = meta;
  sync_xdp(run, *x);
  return 0;
}

// bpf_xdp_adjust_tail(ctx, delta): data_end moves by delta, at most to the frame end minus the
// reserved skb_shared_info tailroom, at least ETH_HLEN past data; grown bytes are zeroed.
std::uint64_t xdp_adjust_tail(std::uint64_t ctx, std::uint64_t delta, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  XdpCtx* x = xdp_of(run, ctx, "bpf_xdp_adjust_tail");
  if (x == nullptr) return 0;
  const auto off = static_cast<std::int64_t>(static_cast<std::int32_t>(delta));
  const std::uint64_t hard_end = x->hard_start + x->frame_sz - kXdpSharedInfoBytes;
  const std::uint64_t data_end = x->data_end + static_cast<std::uint64_t>(off);
  if (data_end > hard_end) return ret(-EINVAL);
  if (data_end < x->data + kEthHlen) return ret(-EINVAL);
  if (off > 0) std::memset(ptr(x->data_end), 0, static_cast<std::size_t>(off));
  x->data_end = data_end;
  sync_xdp(run, *x);
  return 0;
}

std::uint64_t xdp_get_buff_len(std::uint64_t ctx, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  XdpCtx* x = xdp_of(run, ctx, "bpf_xdp_get_buff_len");
  return x == nullptr ? 0 : x->data_end - x->data;
}

// bpf_xdp_load_bytes / bpf_xdp_store_bytes(ctx, offset, buf, len): the kernel's bpf_xdp_pointer
// checks: -EFAULT for offset or len above 0xffff, -EINVAL past the end of the (linear) frame; buf is
// left as it was on an error, as the kernel does.
std::uint64_t xdp_copy_bytes(std::uint64_t ctx, std::uint64_t offset, std::uint64_t buf, std::uint64_t len,
                             bool store, vm::RunContext* run) {
  const char* name = store ? "bpf_xdp_store_bytes" : "bpf_xdp_load_bytes";
  XdpCtx* x = xdp_of(run, ctx, name);
  if (x == nullptr || !guest_ok(run, buf, len, !store, name)) return 0;
  const std::uint64_t off = static_cast<std::uint32_t>(offset), n = static_cast<std::uint32_t>(len);
  if (off > 0xffff || n > 0xffff) return ret(-EFAULT);
  if (off + n > x->data_end - x->data) return ret(-EINVAL);
  if (store) std::memcpy(ptr(x->data + off), ptr(buf), n);
  else std::memcpy(ptr(buf), ptr(x->data + off), n);
  return 0;
}
std::uint64_t xdp_load_bytes(std::uint64_t ctx, std::uint64_t offset, std::uint64_t buf, std::uint64_t len,
                             std::uint64_t, vm::RunContext* run) {
  return xdp_copy_bytes(ctx, offset, buf, len, false, run);
}
std::uint64_t xdp_store_bytes(std::uint64_t ctx, std::uint64_t offset, std::uint64_t buf, std::uint64_t len,
                              std::uint64_t, vm::RunContext* run) {
  return xdp_copy_bytes(ctx, offset, buf, len, true, run);
}

}  // namespace

void add_xdp_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> args{ArgType::PtrToCtx, ArgType::Anything};
  reg.add(entry(BPF_FUNC_xdp_adjust_head, "bpf_xdp_adjust_head", xdp_adjust_head, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_xdp_adjust_meta, "bpf_xdp_adjust_meta", xdp_adjust_meta, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_xdp_adjust_tail, "bpf_xdp_adjust_tail", xdp_adjust_tail, rt, RetType::Integer, args));
  reg.add(entry(BPF_FUNC_xdp_get_buff_len, "bpf_xdp_get_buff_len", xdp_get_buff_len, rt, RetType::Integer,
                {ArgType::PtrToCtx}));
  reg.add(entry(BPF_FUNC_xdp_load_bytes, "bpf_xdp_load_bytes", xdp_load_bytes, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::PtrToUninitMem, ArgType::ConstSize}));
  reg.add(entry(BPF_FUNC_xdp_store_bytes, "bpf_xdp_store_bytes", xdp_store_bytes, rt, RetType::Integer,
                {ArgType::PtrToCtx, ArgType::Anything, ArgType::PtrToMem, ArgType::ConstSize}));
}

}  // namespace bpfvm::helpers::detail
