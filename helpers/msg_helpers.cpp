// The sk_msg data helpers (net/core/filter.c): bpf_msg_apply_bytes, bpf_msg_cork_bytes and
// bpf_msg_pull_data/push_data/pop_data on the fragments of the message (MsgCtx), with the kernel's
// argument checks and errnos.
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;
using Fragment = MsgCtx::Fragment;

// The message behind r1, or nullptr after a fault.
MsgCtx* msg_of(vm::RunContext* run, std::uint64_t ctx) {
  const HelperRun* s = run_state(run);
  if (s == nullptr || s->msg == nullptr) {
    fault(run, "this run has no sk_msg context");
    return nullptr;
  }
  if (reinterpret_cast<std::uintptr_t>(&s->msg->md) != ctx) {
    fault(run, "r1 is not the program's context");
    return nullptr;
  }
  return s->msg;
}

// Sets data/data_end to [begin, begin + bytes) and the packet Region with them.
void set_window(vm::RunContext* run, MsgCtx& m, std::uint8_t* begin, std::uint32_t bytes) {
  m.md.data = begin;
  m.md.data_end = begin + bytes;
  move_packet_region(run, reinterpret_cast<std::uintptr_t>(begin), bytes);
}

// sk_msg_compute_data_pointers: data/data_end name the first fragment; size the whole message.
void window_on_first(vm::RunContext* run, MsgCtx& m) {
  std::uint32_t size = 0;
  for (std::uint32_t i = 0; i < m.nr_frags; ++i) size += m.frags[i].length;
  m.md.size = size;
  if (m.nr_frags == 0) return set_window(run, m, m.arena, 0);
  set_window(run, m, m.frags[0].bytes, m.frags[0].length);
}

// The fragment holding message byte `start` and the message offset it begins at; nr_frags when the
// message is shorter (the kernel's scan from sg.start).
std::uint32_t fragment_at(const MsgCtx& m, std::uint64_t start, std::uint64_t& offset) {
  offset = 0;
  for (std::uint32_t i = 0; i < m.nr_frags; ++i) {
    if (start < offset + m.frags[i].length) return i;
    offset += m.frags[i].length;
  }
  return m.nr_frags;
}

// The largest block the kernel's alloc_pages gives (order MAX_PAGE_ORDER = 10 of 4 KiB pages).
constexpr std::uint64_t kMaxAllocBytes = std::uint64_t{4096} << 10;

// `bytes` fresh bytes from the arena's tail, or nullptr (-ENOMEM) when more than the kernel can
// allocate at once or more than the arena has left.
std::uint8_t* arena_take(MsgCtx& m, std::uint64_t bytes) {
  if (bytes > kMaxAllocBytes || bytes > m.arena_bytes - m.arena_used_bytes) return nullptr;
  std::uint8_t* p = m.arena + m.arena_used_bytes;
  m.arena_used_bytes += bytes;
  return p;
}

// Callers check that a slot is free (the kernel's `space`); a full list is left as it is.
void insert_fragment(MsgCtx& m, std::uint32_t at, Fragment f) {
  if (m.nr_frags >= kMaxMsgFrags) return;
  std::copy_backward(m.frags + at, m.frags + m.nr_frags, m.frags + m.nr_frags + 1);
  m.frags[at] = f;
  ++m.nr_frags;
}

void erase_fragments(MsgCtx& m, std::uint32_t at, std::uint32_t count) {
  std::copy(m.frags + at + count, m.frags + m.nr_frags, m.frags + at);
  m.nr_frags -= count;
}

std::uint64_t msg_apply_bytes(std::uint64_t ctx, std::uint64_t bytes, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  MsgCtx* m = msg_of(run, ctx);
  if (m == nullptr) return 0;
  m->apply_bytes = static_cast<std::uint32_t>(bytes);
  m->apply_bytes_set = true;
  return 0;
}

std::uint64_t msg_cork_bytes(std::uint64_t ctx, std::uint64_t bytes, std::uint64_t, std::uint64_t, std::uint64_t,
                             vm::RunContext* run) {
  MsgCtx* m = msg_of(run, ctx);
  if (m == nullptr) return 0;
  m->cork_bytes = static_cast<std::uint32_t>(bytes);
  m->cork_bytes_set = true;
  return 0;
}

// bpf_msg_pull_data(msg, start, end, flags): flags or end <= start -EINVAL; start past the message
// -EINVAL. When [start, end) lies in one fragment, data/data_end become that range; else the fragments
// from start's up to the one holding end - 1 are copied into one (-EINVAL when the message ends first,
// -ENOMEM without room) and the range is taken from it.
std::uint64_t msg_pull_data(std::uint64_t ctx, std::uint64_t start64, std::uint64_t end64, std::uint64_t flags,
                            std::uint64_t, vm::RunContext* run) {
  MsgCtx* m = msg_of(run, ctx);
  if (m == nullptr) return 0;
  const auto start = static_cast<std::uint32_t>(start64), end = static_cast<std::uint32_t>(end64);
  if (flags || end <= start) return ret(-EINVAL);
  std::uint64_t offset = 0;
  const std::uint32_t first = fragment_at(*m, start, offset);
  if (first == m->nr_frags) return ret(-EINVAL);
  const std::uint32_t bytes = end - start;
  const std::uint64_t needed = start - offset + bytes;
  if (needed > m->frags[first].length) {
    std::uint64_t copy = 0;
    std::uint32_t last = first;  // one past the last fragment merged
    while (last < m->nr_frags && copy < needed) copy += m->frags[last++].length;
    if (copy < needed) return ret(-EINVAL);
    std::uint8_t* merged = arena_take(*m, copy);
    if (merged == nullptr) return ret(-ENOMEM);
    std::uint8_t* to = merged;
    for (std::uint32_t i = first; i < last; ++i) {
      std::memcpy(to, m->frags[i].bytes, m->frags[i].length);
      to += m->frags[i].length;
    }
    m->frags[first] = Fragment{merged, static_cast<std::uint32_t>(copy)};
    erase_fragments(*m, first + 1, last - first - 1);
  }
  set_window(run, *m, m->frags[first].bytes + (start - offset), bytes);
  return 0;
}

// bpf_msg_push_data(msg, start, len, flags): flags -EINVAL, len 0 does nothing, start past the message's
// end -EINVAL (start == size appends: the kernel's bound since its 6.13 fixes, confirmed on 6.18). len
// zeroed bytes go in at start (the kernel's new page is not cleared; bpfvm gives zeroes rather than
// stale memory) as a fragment of their own, splitting start's fragment when start falls inside it;
// with no free fragment slot (or one, and a split needed) start's fragment is copied together with the
// new bytes into one. data/data_end then name the first fragment.
std::uint64_t msg_push_data(std::uint64_t ctx, std::uint64_t start64, std::uint64_t len64, std::uint64_t flags,
                            std::uint64_t, vm::RunContext* run) {
  MsgCtx* m = msg_of(run, ctx);
  if (m == nullptr) return 0;
  const auto start = static_cast<std::uint32_t>(start64), len = static_cast<std::uint32_t>(len64);
  if (flags) return ret(-EINVAL);
  if (len == 0) return 0;
  if (start > m->md.size) return ret(-EINVAL);
  if (m->nr_frags == 0) {  // everything was popped: the new bytes are the message
    std::uint8_t* added = arena_take(*m, len);
    if (added == nullptr) return ret(-ENOMEM);
    std::memset(added, 0, len);
    insert_fragment(*m, 0, Fragment{added, len});
    window_on_first(run, *m);
    return 0;
  }
  std::uint64_t offset = 0;
  std::uint32_t i = fragment_at(*m, start, offset);
  if (i == m->nr_frags) offset = m->md.size - m->frags[--i].length;  // start == size: after the last one
  const std::uint64_t space = kMaxMsgFrags - m->nr_frags;
  const auto front = static_cast<std::uint32_t>(start - offset);
  const Fragment old = m->frags[i];
  if (space == 0 || (space == 1 && front != 0)) {
    std::uint8_t* merged = arena_take(*m, std::uint64_t{old.length} + len);
    if (merged == nullptr) return ret(-ENOMEM);
    std::memcpy(merged, old.bytes, front);
    std::memset(merged + front, 0, len);
    std::memcpy(merged + front + len, old.bytes + front, old.length - front);
    m->frags[i] = Fragment{merged, old.length + len};
  } else {
    std::uint8_t* added = arena_take(*m, len);
    if (added == nullptr) return ret(-ENOMEM);
    std::memset(added, 0, len);
    if (front == 0) {
      insert_fragment(*m, i, Fragment{added, len});
    } else {
      m->frags[i].length = front;
      insert_fragment(*m, i + 1, Fragment{added, len});
      if (old.length > front) insert_fragment(*m, i + 2, Fragment{old.bytes + front, old.length - front});
    }
  }
  window_on_first(run, *m);
  return 0;
}

// bpf_msg_pop_data(msg, start, len, flags): flags -EINVAL, len 0 does nothing; start past the message,
// or start + len past its end, -EINVAL. Bytes [start, start + len) leave the message: a pop inside one
// fragment splits it in two (or, with no free fragment slot, copies the remainder together), fragments
// emptied leave. This is the kernel's pop since its 6.13 fixes (the whole message may go; offsets in
// a later fragment count from that fragment's start), as the 6.18 test kernel answers.
std::uint64_t msg_pop_data(std::uint64_t ctx, std::uint64_t start64, std::uint64_t len64, std::uint64_t flags,
                           std::uint64_t, vm::RunContext* run) {
  MsgCtx* m = msg_of(run, ctx);
  if (m == nullptr) return 0;
  const auto start = static_cast<std::uint32_t>(start64), len = static_cast<std::uint32_t>(len64);
  if (flags) return ret(-EINVAL);
  if (len == 0) return 0;
  std::uint64_t offset = 0;
  std::uint32_t i = fragment_at(*m, start, offset);
  if (i == m->nr_frags || std::uint64_t{start} + len > m->md.size) return ret(-EINVAL);
  std::uint64_t pop = len;
  if (start != offset) {
    Fragment& f = m->frags[i];
    const auto a = static_cast<std::uint32_t>(start - offset);
    if (pop < f.length - a) {
      const Fragment back{f.bytes + a + pop, static_cast<std::uint32_t>(f.length - a - pop)};
      if (m->nr_frags < kMaxMsgFrags) {
        f.length = a;
        insert_fragment(*m, i + 1, back);
      } else {
        std::memmove(f.bytes + a, back.bytes, back.length);  // the fragment's own bytes: a + b stay
        f.length = a + back.length;
      }
      pop = 0;
    } else {
      pop -= f.length - a;
      f.length = a;
      ++i;
    }
  }
  while (pop != 0 && i < m->nr_frags) {
    Fragment& f = m->frags[i];
    if (pop < f.length) {
      f.bytes += pop;
      f.length -= static_cast<std::uint32_t>(pop);
      pop = 0;
    } else {
      pop -= f.length;
      erase_fragments(*m, i, 1);
    }
  }
  window_on_first(run, *m);
  return 0;
}

}  // namespace

void add_msg_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  const std::initializer_list<ArgType> ctx_and_one{ArgType::PtrToCtx, ArgType::Anything};
  const std::initializer_list<ArgType> ctx_and_three{ArgType::PtrToCtx, ArgType::Anything, ArgType::Anything,
                                                     ArgType::Anything};
  reg.add(entry(BPF_FUNC_msg_apply_bytes, "bpf_msg_apply_bytes", msg_apply_bytes, rt, RetType::Integer, ctx_and_one));
  reg.add(entry(BPF_FUNC_msg_cork_bytes, "bpf_msg_cork_bytes", msg_cork_bytes, rt, RetType::Integer, ctx_and_one));
  reg.add(entry(BPF_FUNC_msg_pull_data, "bpf_msg_pull_data", msg_pull_data, rt, RetType::Integer, ctx_and_three));
  reg.add(entry(BPF_FUNC_msg_push_data, "bpf_msg_push_data", msg_push_data, rt, RetType::Integer, ctx_and_three));
  reg.add(entry(BPF_FUNC_msg_pop_data, "bpf_msg_pop_data", msg_pop_data, rt, RetType::Integer, ctx_and_three));
}

}  // namespace bpfvm::helpers::detail
