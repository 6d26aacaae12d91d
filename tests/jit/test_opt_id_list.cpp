// The IR's short id lists (jit/opt/id_list.hpp: Inst::args, Block::preds/succs): inline up to
// IdList::kInline ids, on the heap beyond, with the vector operations the passes use.
#include <catch2/catch.hpp>

#include <numeric>
#include <utility>
#include <vector>

#include "jit/opt/id_list.hpp"

using bpfvm::jit::opt::IdList;
using bpfvm::jit::opt::ValueId;

namespace {

std::vector<ValueId> as_vector(const IdList& l) { return {l.begin(), l.end()}; }

std::vector<ValueId> iota(std::size_t n, ValueId from) {
  std::vector<ValueId> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

}  // namespace

TEST_CASE("id list: push_back past the inline capacity keeps every id in order", "[jit][opt][id_list]") {
  for (std::size_t n : {0u, 1u, IdList::kInline, IdList::kInline + 1, 3 * IdList::kInline + 2, 1000u}) {
    IdList l;
    for (ValueId v = 0; v < n; ++v) l.push_back(100 + v);
    CHECK(l.size() == n);
    CHECK(l.empty() == (n == 0));
    CHECK(as_vector(l) == iota(n, 100));
    if (n > 0) CHECK(l.back() == 100 + n - 1);
  }
}

TEST_CASE("id list: copies, moves and assignments, inline and on the heap", "[jit][opt][id_list]") {
  for (std::size_t n : {2u, IdList::kInline, IdList::kInline + 3}) {
    const IdList source = iota(n, 7);  // from a vector, as a phi's arguments are
    IdList copy = source;
    CHECK(copy == source);
    copy[0] = 99;  // a copy owns its ids
    CHECK(source[0] == 7);
    IdList moved = std::move(copy);
    CHECK(moved.size() == n);
    CHECK(moved[0] == 99);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from list is empty and usable
    copy.push_back(5);
    CHECK(as_vector(copy) == std::vector<ValueId>{5});
    IdList target{1, 2, 3, 4, 5, 6, 7, 8};
    target = source;
    CHECK(as_vector(target) == iota(n, 7));
    target = std::move(moved);
    CHECK(target.size() == n);
    CHECK(target[0] == 99);
    target = {4, 2};
    CHECK(as_vector(target) == std::vector<ValueId>{4, 2});
    target.clear();
    CHECK(target.empty());
    target.reserve(3 * n);
    for (ValueId v = 0; v < 3 * n; ++v) target.push_back(v);
    CHECK(as_vector(target) == iota(3 * n, 0));
  }
}
