// HashMap: BPF_MAP_TYPE_HASH and its per-CPU and LRU variants (one table, as in kernel/bpf/hashtab.c).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "maps/map.hpp"
#include "maps/zeroed_block.hpp"

namespace bpfvm::maps {

/// Serves BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.
///
/// Concurrency: buckets are singly linked lists with atomic links. Writers take the bucket's own
/// spin lock; lookups from a thread inside a RunGuard walk the list without any lock (acquire loads),
/// other threads take the bucket lock for the walk. There is no table-wide lock on lookup.
///
/// Reclamation: an element that is deleted, replaced or evicted is unlinked and retired under a
/// RunDomain epoch tag; it is recycled only after every run active at unlink time has ended, so a
/// value pointer a program holds stays readable and is never reused under it. Element memory
/// returns to the OS only when the map is destroyed. Runs allocate and retire through a cache of
/// their RunDomain slot without locking (at most kSlotBatch + kSlotLimbo elements per slot beyond
/// max_entries); host calls use the global pool under pool_mu_.
///
/// BPF_F_NO_PREALLOC changes only when memory is obtained (up front vs. on demand); programs see the
/// same behaviour: at most max_entries live elements, -E2BIG beyond that.
///
/// LRU: when full, an update evicts the least recently used element. Lookups from programs set a
/// reference bit (lock-free); eviction walks a list from the oldest end and gives referenced elements
/// a second chance, as the kernel's inactive list does. BPF_F_NO_COMMON_LRU is accepted and behaves
/// as the common list. Like the kernel, an LRU update takes its new element (maybe evicting) before
/// it checks BPF_NOEXIST/BPF_EXIST.
class HashMap : public Map {
 public:
  HashMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);
  ~HashMap() override;

  void* lookup(const void* key) override;
  /// Per-CPU variants only (htab_percpu_map_lookup_percpu_elem; LRU: the reference bit set).
  void* lookup_percpu(const void* key, std::uint32_t cpu) override;
  /// lookup() with the key size fixed at compile time (4, 8 or 16 bytes; other sizes: the generic
  /// walk), so hashing and comparing the key are a few word operations; what a JIT calls directly.
  vm::DirectLookupFn direct_lookup() const override;
  int update(const void* key, const void* value, std::uint64_t flags) override;
  int erase(const void* key) override;
  bool key_of_value(const void* value, void* key) const override;
  unsigned batch_ops() const override {
    return kBatchLookup | kBatchLookupAndDelete | kBatchUpdate | kBatchDelete;
  }
  std::uint32_t batch_cursor_size() const override { return 4; }

  /// Live elements (approximate while other threads update).
  std::uint32_t size() const { return count_.load(std::memory_order_relaxed); }

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;
  int copy_and_erase(const void* key, void* out, std::uint64_t flags) override;
  int batch_walk(const void* in_batch, void* out_batch, void* keys, void* values,
                 std::uint32_t& count, std::uint64_t elem_flags, bool and_delete) override;
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;

 private:
  struct Elem;
  struct Bucket {
    std::atomic<Elem*> head{nullptr};
    std::atomic<std::uint32_t> lock{0};
  };
  class BucketLock;
  struct Chunk {
    ZeroedBlock bytes;
    std::uintptr_t begin = 0;
    std::size_t elems = 0;
  };

  // KeySize 0: spec_.key_size; otherwise it must equal it (the direct entries).
  template <std::uint32_t KeySize = 0>
  std::uint32_t hash_key(const void* key) const;
  Bucket& bucket_of(std::uint32_t hash) const { return buckets_[hash & (n_buckets_ - 1)]; }
  template <std::uint32_t KeySize = 0>
  Elem* find(const Bucket& b, std::uint32_t hash, const void* key) const;
  template <std::uint32_t KeySize>
  void* lookup_sized(const void* key);
  template <std::uint32_t KeySize>
  static std::uint64_t direct_lookup_entry(std::uint64_t map, std::uint64_t key) noexcept;
  // Defined inline in hash_map.cpp: the lookup entries' hot path (position-independent code does
  // not inline calls of members with an interposable symbol).
  std::byte* key_of(Elem* e) const;
  std::byte* value_of(Elem* e, unsigned cpu) const;
  void* found(Elem* e) const;
  void* lookup_locked(Bucket& b, std::uint32_t hash, const void* key);  // outside a run
  void unlink(Bucket& b, Elem* e);
  void copy_out(Elem* e, void* out, std::uint64_t flags) const;  // host layout (all CPUs)

  int do_update(const void* key, const void* value, std::uint64_t flags, bool all_cpus);
  int update_plain(const void* key, const void* value, std::uint64_t flags, bool all_cpus);
  int update_lru(const void* key, const void* value, std::uint64_t flags, bool all_cpus);
  void init_value(Elem* e, const void* value, bool all_cpus) const;
  void overwrite_percpu(Elem* e, const void* value, bool all_cpus) const;

  // Element pool: a global free list and limbo queue (pool_mu_), and per RunDomain slot a cache used
  // without a lock inside runs (SlotPool).
  static constexpr std::uint32_t kSlotBatch = 16;  // elements a slot takes from the global list at once
  static constexpr std::uint32_t kSlotLimbo = 256;  // a slot's limbo beyond this goes to the global one
  struct alignas(64) SlotPool {
    Elem* free = nullptr;
    Elem* limbo_head = nullptr;
    Elem* limbo_tail = nullptr;
    std::uint32_t limbo_count = 0;
  };
  void reclaim(Elem*& head, Elem*& tail, Elem*& free, std::uint64_t safe) const;
  Elem* fresh(Elem* e) const;
  Elem* take_global();  // pool_mu_ held
  Elem* alloc_elem();
  void free_unused(Elem* e);  // never linked: straight back to the free list
  void retire(Elem* e);       // was linked: recycled after a grace period
  void add_chunk(std::size_t elems);  // pool_mu_ held

  // LRU list (lru_mu_; taken after a bucket lock, or before a bucket try_lock during eviction).
  Elem* lru_reserve();
  bool evict_one();
  void lru_push_head(Elem* e);
  void lru_remove(Elem* e);

  const bool percpu_;
  const bool lru_;
  const unsigned slots_;
  const std::uint32_t key_stride_;
  const std::uint32_t value_stride_;
  const std::size_t elem_bytes_;
  std::uint32_t n_buckets_ = 1;
  std::unique_ptr<Bucket[]> buckets_;
  std::atomic<std::uint32_t> count_{0};  // linked + reserved elements

  std::mutex pool_mu_;
  Elem* free_ = nullptr;
  // The newest chunk's elements never handed out: taken one by one once free_ is empty, so a
  // preallocated map's elements use memory only when first inserted.
  std::byte* untouched_ = nullptr;
  std::size_t untouched_left_ = 0;
  Elem* limbo_head_ = nullptr;  // retired, oldest first (linked through free_next)
  Elem* limbo_tail_ = nullptr;
  std::unique_ptr<SlotPool[]> slot_pools_;  // one per RunDomain slot
  mutable std::shared_mutex chunks_mu_;
  std::vector<Chunk> chunks_;

  std::mutex lru_mu_;
  Elem* lru_head_ = nullptr;  // most recent
  Elem* lru_tail_ = nullptr;  // oldest
};

}  // namespace bpfvm::maps
