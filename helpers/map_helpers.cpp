// Map helpers: lookup/update/delete, queue/stack push/pop/peek, spin locks, for_each_map_elem.
#include <linux/bpf.h>

#include <array>
#include <atomic>
#include <cstring>
#include <span>
#include <cerrno>
#include <thread>
#include <vector>

#include "helpers/guest_memory.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/map.hpp"

namespace bpfvm::helpers {
namespace detail {
namespace {

using vm::ArgType;
using vm::RetType;

maps::Map* map_of(std::uint64_t r) { return reinterpret_cast<maps::Map*>(static_cast<std::uintptr_t>(r)); }

bool is_sockmap(const maps::Map& map) {
  return map.type() == maps::MapType::Sockmap || map.type() == maps::MapType::Sockhash;
}

std::uint64_t map_lookup_elem(std::uint64_t m, std::uint64_t key, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  auto* map = map_of(m);
  if (!guest_ok(run, key, map->spec().key_size, false, "bpf_map_lookup_elem key")) return 0;
  if (is_sockmap(*map)) return sockmap_lookup_elem(run, *map, key);
  return reinterpret_cast<std::uintptr_t>(map->lookup(ptr(key)));
}

// bpf_map_lookup_percpu_elem(map, key, u32 cpu): the value of that CPU slot, or NULL (a cpu at or past
// the map's CPU count, no element). The verifier admits only the per-CPU types.
std::uint64_t map_lookup_percpu_elem(std::uint64_t m, std::uint64_t key, std::uint64_t cpu, std::uint64_t,
                                     std::uint64_t, vm::RunContext* run) {
  auto* map = map_of(m);
  if (!guest_ok(run, key, map->spec().key_size, false, "bpf_map_lookup_percpu_elem key")) return 0;
  return reinterpret_cast<std::uintptr_t>(map->lookup_percpu(ptr(key), static_cast<std::uint32_t>(cpu)));
}

std::uint64_t map_update_elem(std::uint64_t m, std::uint64_t key, std::uint64_t value, std::uint64_t flags,
                              std::uint64_t, vm::RunContext* run) {
  auto* map = map_of(m);
  if (is_sockmap(*map)) return sockmap_update_elem(run, *map, key, value, flags);
  if (!guest_ok(run, key, map->spec().key_size, false, "bpf_map_update_elem key") ||
      !guest_ok(run, value, map->spec().value_size, false, "bpf_map_update_elem value"))
    return 0;
  return ret(map->update(ptr(key), ptr(value), flags));
}

std::uint64_t map_delete_elem(std::uint64_t m, std::uint64_t key, std::uint64_t, std::uint64_t, std::uint64_t,
                              vm::RunContext* run) {
  auto* map = map_of(m);
  if (!guest_ok(run, key, map->spec().key_size, false, "bpf_map_delete_elem key")) return 0;
  return ret(map->erase(ptr(key)));
}

std::uint64_t map_push_elem(std::uint64_t m, std::uint64_t value, std::uint64_t flags, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  auto* map = map_of(m);
  if (!guest_ok(run, value, map->spec().value_size, false, "bpf_map_push_elem value")) return 0;
  return ret(map->push(ptr(value), flags));
}

std::uint64_t map_pop_elem(std::uint64_t m, std::uint64_t value, std::uint64_t, std::uint64_t, std::uint64_t,
                           vm::RunContext* run) {
  auto* map = map_of(m);
  if (!guest_ok(run, value, map->spec().value_size, true, "bpf_map_pop_elem value")) return 0;
  return ret(map->pop(ptr(value)));
}

std::uint64_t map_peek_elem(std::uint64_t m, std::uint64_t value, std::uint64_t, std::uint64_t, std::uint64_t,
                            vm::RunContext* run) {
  auto* map = map_of(m);
  if (!guest_ok(run, value, map->spec().value_size, true, "bpf_map_peek_elem value")) return 0;
  return ret(map->peek(ptr(value)));
}

// struct bpf_spin_lock is one u32: 0 free, 1 held — the protocol maps::ValueLock uses for BPF_F_LOCK,
// so program locks and host BPF_F_LOCK copies exclude each other.
std::uint64_t spin_lock(std::uint64_t lock, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                        vm::RunContext* run) {
  if (lock & 3) return fault(run, "lock " + hex(lock) + " is not 4-byte aligned");
  if (!guest_ok(run, lock, 4, true, "bpf_spin_lock")) return 0;
  std::atomic_ref<std::uint32_t> word(*reinterpret_cast<std::uint32_t*>(ptr(lock)));
  std::uint32_t expected = 0;
  while (!word.compare_exchange_weak(expected, 1, std::memory_order_acquire)) {
    expected = 0;
    std::this_thread::yield();
  }
  return 0;
}

std::uint64_t spin_unlock(std::uint64_t lock, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                          vm::RunContext* run) {
  if (lock & 3) return fault(run, "lock " + hex(lock) + " is not 4-byte aligned");
  if (!guest_ok(run, lock, 4, true, "bpf_spin_unlock")) return 0;
  std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(ptr(lock))).store(0, std::memory_order_release);
  return 0;
}

// bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): callback(map, key, value, ctx)
// returns 0 to continue, 1 to stop; the result is the number of elements visited.
std::uint64_t for_each_map_elem(std::uint64_t m, std::uint64_t fn, std::uint64_t cb_ctx, std::uint64_t flags,
                                std::uint64_t, vm::RunContext* run) {
  auto* map = map_of(m);
  if (run->invoke_callback == nullptr)
    return fault(run, "the engine provides no callback hook (not supported yet)");
  if (flags) return ret(-EINVAL);
  using maps::MapType;
  const auto t = map->type();
  if (t != MapType::Hash && t != MapType::PercpuHash && t != MapType::LruHash && t != MapType::LruPercpuHash &&
      t != MapType::Array && t != MapType::PercpuArray)
    return fault(run, "" + maps::map_type_name(t) + " cannot be iterated");
  // The key lives in host memory the callback may read: expose it as a read-only region.
  const std::uint32_t ks = map->spec().key_size;
  std::vector<std::uint64_t> key_words((ks + 7) / 8 + 1), next_words(key_words.size());
  auto* key = reinterpret_cast<std::byte*>(key_words.data());
  auto* next = reinterpret_cast<std::byte*>(next_words.data());
  run->regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(key), ks, false, "map key"});
  const std::size_t key_region = run->regions.size() - 1;
  std::uint64_t visited = 0;
  bool have_key = false;
  while (true) {
    if (map->get_next_key(have_key ? key : nullptr, next) != 0) break;
    std::memcpy(key, next, ks);
    have_key = true;
    void* value = map->lookup(key);
    if (value == nullptr) continue;  // deleted meanwhile
    ++visited;
    const std::array<std::uint64_t, 5> args{m, reinterpret_cast<std::uintptr_t>(key),
                                            reinterpret_cast<std::uintptr_t>(value), cb_ctx, 0};
    auto r = run->call_back(fn, std::span<const std::uint64_t, 5>(args));
    if (!r) {
      run->regions.erase(run->regions.begin() + static_cast<std::ptrdiff_t>(key_region));
      return fault(run, "callback: " + r.error().message());
    }
    if (*r != 0) break;
  }
  run->regions.erase(run->regions.begin() + static_cast<std::ptrdiff_t>(key_region));
  return visited;
}

}  // namespace

void add_map_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  vm::HelperEntry lookup = entry(BPF_FUNC_map_lookup_elem, "bpf_map_lookup_elem", map_lookup_elem, rt,
                                RetType::PtrToMapValueOrNull, {ArgType::ConstMapPtr, ArgType::PtrToMapKey});
  lookup.direct_array = [](std::uint64_t m) { return map_of(m)->direct_array(); };
  lookup.direct_lookup = [](std::uint64_t m) { return map_of(m)->direct_lookup(); };
  reg.add(std::move(lookup));
  reg.add(entry(BPF_FUNC_map_update_elem, "bpf_map_update_elem", map_update_elem, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToMapKey, ArgType::PtrToMapValue, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_map_delete_elem, "bpf_map_delete_elem", map_delete_elem, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToMapKey}));
  reg.add(entry(BPF_FUNC_map_push_elem, "bpf_map_push_elem", map_push_elem, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToMapValue, ArgType::Anything}));
  // pop/peek take ARG_PTR_TO_MAP_VALUE | MEM_UNINIT: the helper writes the value there.
  reg.add(entry(BPF_FUNC_map_pop_elem, "bpf_map_pop_elem", map_pop_elem, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToUninitMapValue}));
  reg.add(entry(BPF_FUNC_map_peek_elem, "bpf_map_peek_elem", map_peek_elem, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToUninitMapValue}));
  reg.add(entry(BPF_FUNC_spin_lock, "bpf_spin_lock", spin_lock, rt, RetType::Void, {ArgType::PtrToSpinLock}));
  reg.add(entry(BPF_FUNC_spin_unlock, "bpf_spin_unlock", spin_unlock, rt, RetType::Void, {ArgType::PtrToSpinLock}));
  reg.add(entry(BPF_FUNC_map_lookup_percpu_elem, "bpf_map_lookup_percpu_elem", map_lookup_percpu_elem, rt,
                RetType::PtrToMapValueOrNull, {ArgType::ConstMapPtr, ArgType::PtrToMapKey, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_for_each_map_elem, "bpf_for_each_map_elem", for_each_map_elem, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToFunc, ArgType::PtrToStack, ArgType::Anything}));
}

}  // namespace detail

vm::PseudoResolver map_index_resolver(std::span<maps::Map* const> maps) {
  std::vector<maps::Map*> table(maps.begin(), maps.end());
  return [table](isa::LddwSrc src, std::int32_t imm, std::int32_t next_imm, std::uint32_t pc) -> Result<std::uint64_t> {
    if (imm < 0 || static_cast<std::size_t>(imm) >= table.size() || table[static_cast<std::size_t>(imm)] == nullptr)
      return make_error(Errc::InvalidArgument, "lddw refers to map " + std::to_string(imm) + ", which does not exist", pc);
    maps::Map* map = table[static_cast<std::size_t>(imm)];
    switch (src) {
      case isa::LddwSrc::MapFd:
      case isa::LddwSrc::MapIdx:
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(map));
      case isa::LddwSrc::MapValue:
      case isa::LddwSrc::MapIdxValue: {
        // array_map_direct_value_addr: single-entry arrays only; offset inside the value.
        if (map->type() != maps::MapType::Array || map->spec().max_entries != 1)
          return make_error(Errc::InvalidArgument, "EOPNOTSUPP: direct value access needs a single-entry array map", pc);
        if (next_imm < 0 || static_cast<std::uint32_t>(next_imm) >= map->spec().value_size)
          return make_error(Errc::InvalidArgument, "EINVAL: direct value offset " + std::to_string(next_imm) +
                                                       " is outside the value", pc);
        const std::uint32_t zero = 0;
        void* value = map->lookup(&zero);
        if (value == nullptr) return make_error(Errc::Internal, "array map has no element 0", pc);
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(value)) + static_cast<std::uint32_t>(next_imm);
      }
      case isa::LddwSrc::Imm64:
      case isa::LddwSrc::BtfId:
      case isa::LddwSrc::Func:
        break;
    }
    return make_error(Errc::Unsupported, "lddw pseudo source " + std::to_string(isa::to_underlying(src)) +
                                             " is not supported yet", pc);
  };
}

}  // namespace bpfvm::helpers
