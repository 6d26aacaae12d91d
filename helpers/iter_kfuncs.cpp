// The open-coded numeric iterator kfuncs (kernel/bpf/bpf_iter.c's bpf_iter_num_*, registered for every
// program type): the program's 8-byte struct bpf_iter_num on its stack holds two s32, the last value
// handed out (`cur`) and the end of the range (`end`). bpf_for(i, start, end) calls new once, next until
// it returns NULL, and destroy. The verifier (transfer_kfunc.cpp) makes sure the 8 bytes are the
// iterator's, initialised by new, and that nothing else reads or writes them.
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "helpers/guest_memory.hpp"
#include "helpers/kfunc_table.hpp"

namespace bpfvm::helpers::detail {
namespace {

struct IterNum {
  std::int32_t cur;
  std::int32_t end;
};
static_assert(sizeof(IterNum) == 8);

// The most iterations one iterator may run (the kernel's BPF_MAX_LOOPS, as bpf_loop's bound).
constexpr std::int64_t kMaxIterations = 8 * 1024 * 1024;

bool iter_ok(vm::RunContext* run, std::uint64_t it, const char* kfunc) {
  return guest_ok(run, it, sizeof(IterNum), true, kfunc);
}
IterNum load(std::uint64_t it) {
  IterNum s;
  std::memcpy(&s, ptr(it), sizeof s);
  return s;
}
void store(std::uint64_t it, IterNum s) { std::memcpy(ptr(it), &s, sizeof s); }

// int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end): the range [start, end). A range
// with start > end (-EINVAL) or longer than the iteration bound (-E2BIG) gives an empty iterator.
std::uint64_t iter_num_new(std::uint64_t it, std::uint64_t start, std::uint64_t end, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  if (!iter_ok(run, it, "bpf_iter_num_new")) return 0;
  const auto first = static_cast<std::int32_t>(start), last = static_cast<std::int32_t>(end);
  if (first > last || std::int64_t{last} - first > kMaxIterations) {
    store(it, IterNum{0, 0});
    return ret(first > last ? -EINVAL : -E2BIG);
  }
  // next() steps before it hands a value out: cur starts one below start (wrapping at INT_MIN).
  store(it, IterNum{static_cast<std::int32_t>(static_cast<std::uint32_t>(first) - 1u), last});
  return 0;
}

// int *bpf_iter_num_next(struct bpf_iter_num *it): a pointer to the next value (inside the iterator),
// or NULL once the range is done (the iterator then stays empty).
std::uint64_t iter_num_next(std::uint64_t it, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  if (!iter_ok(run, it, "bpf_iter_num_next")) return 0;
  IterNum s = load(it);
  // The step wraps as an s32 (new's cur for a range starting at INT_MIN is INT_MAX); an emptied
  // iterator (cur == end == 0) steps to 1, past its end.
  const auto next = static_cast<std::int32_t>(static_cast<std::uint32_t>(s.cur) + 1u);
  if (next >= s.end) {
    store(it, IterNum{0, 0});
    return 0;
  }
  s.cur = next;
  store(it, s);
  return it;  // &it->cur: cur is the first member
}

// void bpf_iter_num_destroy(struct bpf_iter_num *it): the iterator is emptied.
std::uint64_t iter_num_destroy(std::uint64_t it, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                               vm::RunContext* run) {
  if (iter_ok(run, it, "bpf_iter_num_destroy")) store(it, IterNum{0, 0});
  return 0;
}

}  // namespace

void add_iter_kfuncs(vm::HelperRegistry& reg, HelperRuntime& rt) {
  using enum KfuncArg;
  reg.add_kfunc(kfunc_entry("bpf_iter_num_new", iter_num_new, rt, KfuncRet::Integer, {IterNumNew, Scalar, Scalar}));
  reg.add_kfunc(kfunc_entry("bpf_iter_num_next", iter_num_next, rt, KfuncRet::RdonlyIntOrNull, {IterNumNext}));
  reg.add_kfunc(kfunc_entry("bpf_iter_num_destroy", iter_num_destroy, rt, KfuncRet::Void, {IterNumDestroy}));
}

}  // namespace bpfvm::helpers::detail
