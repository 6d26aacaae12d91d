// HashMap: hash, per-CPU hash and LRU hash tables, errnos as in kernel/bpf/hashtab.c.
#include "maps/hash_map.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>
#include <thread>

#include "maps/value_copy.hpp"

// ASan: a reclaimed element's key and value are poisoned until it is handed out again, so a read
// of an element past its grace period (a run that did not hold the RunGuard it needed) is reported
// as a use after free, not silently read from a recycled element. No-ops in other builds.
#include <sanitizer/asan_interface.h>

namespace bpfvm::maps {

struct HashMap::Elem {
  std::atomic<Elem*> next{nullptr};
  std::uint32_t hash = 0;
  std::atomic<std::uint8_t> ref{0};  // LRU reference bit
  Elem* lru_prev = nullptr;
  Elem* lru_next = nullptr;
  Elem* free_next = nullptr;
  std::uint64_t retire_tag = 0;
  // Followed by round_up(key_size, 8) key bytes, then the value area.
};

class HashMap::BucketLock {
 public:
  explicit BucketLock(Bucket& b) : b_(b) {
    while (!try_acquire()) std::this_thread::yield();
  }
  BucketLock(Bucket& b, std::try_to_lock_t) : b_(b), owned_(try_acquire()) {}
  ~BucketLock() {
    if (owned_) b_.lock.store(0, std::memory_order_release);
  }
  BucketLock(const BucketLock&) = delete;
  BucketLock& operator=(const BucketLock&) = delete;
  bool owns_lock() const { return owned_; }

 private:
  bool try_acquire() {
    std::uint32_t expected = 0;
    return b_.lock.compare_exchange_strong(expected, 1, std::memory_order_acquire);
  }
  Bucket& b_;
  bool owned_ = true;
};

HashMap::HashMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, domain),
      percpu_(is_percpu(spec.type)),
      lru_(spec.type == MapType::LruHash || spec.type == MapType::LruPercpuHash),
      slots_(percpu_ ? domain->nr_cpus() : 1),
      key_stride_(percpu_value_stride(spec.key_size)),
      value_stride_(percpu_value_stride(spec.value_size)),
      elem_bytes_(sizeof(Elem) + key_stride_ + std::size_t{value_stride_} * slots_) {
  static_assert(sizeof(Elem) % 8 == 0);
  // hashtab.c: n_buckets = roundup_pow_of_two(max_entries).
  n_buckets_ = std::bit_ceil(std::max<std::uint32_t>(spec.max_entries, 1));
  buckets_ = std::make_unique<Bucket[]>(n_buckets_);
  slot_pools_ = std::make_unique<SlotPool[]>(domain->nr_cpus());
  if (!(spec.map_flags & kBpfFNoPrealloc)) {
    std::lock_guard lock(pool_mu_);
    add_chunk(spec.max_entries);
  }
}

HashMap::~HashMap() = default;

// ---- layout and lookup ------------------------------------------------------------------------

inline std::byte* HashMap::key_of(Elem* e) const {
  return reinterpret_cast<std::byte*>(e) + sizeof(Elem);
}

inline std::byte* HashMap::value_of(Elem* e, unsigned cpu) const {
  return key_of(e) + key_stride_ + std::size_t{value_stride_} * cpu;
}

bool HashMap::key_of_value(const void* value, void* key) const {
  if (percpu_ || !owns_value(reinterpret_cast<std::uintptr_t>(value), spec_.value_size)) return false;
  std::memcpy(key, static_cast<const std::byte*>(value) - key_stride_, spec_.key_size);
  return true;
}

// Eight key bytes at a time (multiply-rotate), then four, the tail byte by byte, then a murmur3
// finalizer so low bits (the bucket index) mix well. Word steps: a 4- or 8-byte key costs one
// multiply, not one per byte. The kernel hashes with jhash and a random seed, so its bucket order is
// not reproducible either way; every path of one map hashes with this one function.
template <std::uint32_t KeySize>
std::uint32_t HashMap::hash_key(const void* key) const {
  const std::uint32_t size = KeySize != 0 ? KeySize : spec_.key_size;
  const auto* p = static_cast<const unsigned char*>(key);
  std::uint64_t h = 0xcbf29ce484222325ull ^ size;
  std::uint32_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = std::rotl((h ^ w) * 0x9e3779b97f4a7c15ull, 29);
  }
  if (i + 4 <= size) {
    std::uint32_t w;
    std::memcpy(&w, p + i, 4);
    h = std::rotl((h ^ w) * 0x9e3779b97f4a7c15ull, 29);
    i += 4;
  }
  for (; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<std::uint32_t>(h);
}

template <std::uint32_t KeySize>
HashMap::Elem* HashMap::find(const Bucket& b, std::uint32_t hash, const void* key) const {
  const std::size_t size = KeySize != 0 ? KeySize : spec_.key_size;
  for (Elem* e = b.head.load(std::memory_order_acquire); e; e = e->next.load(std::memory_order_acquire))
    if (e->hash == hash && std::memcmp(key_of(e), key, size) == 0) return e;
  return nullptr;
}

// What a lookup returns for the element it found: the LRU reference bit set, this CPU's value.
inline void* HashMap::found(Elem* e) const {
  if (lru_ && !e->ref.load(std::memory_order_relaxed)) e->ref.store(1, std::memory_order_relaxed);
  return value_of(e, percpu_ ? this_cpu() : 0);
}

// Outside a run the walk takes the bucket lock. Out of line, so that a run's lookup saves no
// registers for it (a tail call).
[[gnu::noinline]] void* HashMap::lookup_locked(Bucket& b, std::uint32_t hash, const void* key) {
  Elem* e;
  {
    BucketLock lock(b);
    e = find(b, hash, key);
  }
  return e ? found(e) : nullptr;
}

template <std::uint32_t KeySize>
[[gnu::always_inline]] inline void* HashMap::lookup_sized(const void* key) {
  const std::uint32_t h = hash_key<KeySize>(key);
  Bucket& b = bucket_of(h);
  if (!domain_->in_run()) [[unlikely]] return lookup_locked(b, h, key);
  // Lock-free inside a run: unlinked elements stay intact until our run ends.
  Elem* e = find<KeySize>(b, h, key);
  return e ? found(e) : nullptr;
}

void* HashMap::lookup(const void* key) { return lookup_sized<0>(key); }

void* HashMap::lookup_percpu(const void* key, std::uint32_t cpu) {
  if (!percpu_ || cpu >= slots_) return nullptr;
  const std::uint32_t h = hash_key(key);
  Bucket& b = bucket_of(h);
  Elem* e;
  if (domain_->in_run()) {
    e = find(b, h, key);
  } else {
    BucketLock lock(b);
    e = find(b, h, key);
  }
  if (e == nullptr) return nullptr;
  if (lru_ && !e->ref.load(std::memory_order_relaxed)) e->ref.store(1, std::memory_order_relaxed);
  return value_of(e, cpu);
}

template <std::uint32_t KeySize>
std::uint64_t HashMap::direct_lookup_entry(std::uint64_t map, std::uint64_t key) noexcept {
  auto* self = static_cast<HashMap*>(reinterpret_cast<Map*>(static_cast<std::uintptr_t>(map)));
  return reinterpret_cast<std::uintptr_t>(self->lookup_sized<KeySize>(reinterpret_cast<const void*>(key)));
}

vm::DirectLookupFn HashMap::direct_lookup() const {
  switch (spec_.key_size) {
    case 4: return &direct_lookup_entry<4>;
    case 8: return &direct_lookup_entry<8>;
    case 16: return &direct_lookup_entry<16>;
    default: return &direct_lookup_entry<0>;
  }
}

void HashMap::unlink(Bucket& b, Elem* e) {
  std::atomic<Elem*>* link = &b.head;
  for (Elem* cur = link->load(std::memory_order_relaxed); cur;
       cur = link->load(std::memory_order_relaxed)) {
    if (cur == e) {
      link->store(e->next.load(std::memory_order_relaxed), std::memory_order_release);
      return;
    }
    link = &cur->next;
  }
}

// ---- element pool -----------------------------------------------------------------------------

void HashMap::add_chunk(std::size_t elems) {
  if (elems == 0) return;
  Chunk c;
  c.bytes = allocate_zeroed(elems * elem_bytes_);
  c.begin = reinterpret_cast<std::uintptr_t>(c.bytes.get());
  c.elems = elems;
  untouched_ = c.bytes.get();
  untouched_left_ = elems;
  std::unique_lock lock(chunks_mu_);
  chunks_.push_back(std::move(c));
}

// Moves the reusable head of a limbo queue (tags below `safe`) onto a free list.
void HashMap::reclaim(Elem*& head, Elem*& tail, Elem*& free, std::uint64_t safe) const {
  while (head && head->retire_tag < safe) {
    Elem* e = head;
    ASAN_POISON_MEMORY_REGION(reinterpret_cast<std::byte*>(e) + sizeof(Elem), elem_bytes_ - sizeof(Elem));
    head = e->free_next;
    e->free_next = free;
    free = e;
  }
  if (!head) tail = nullptr;
}

HashMap::Elem* HashMap::fresh(Elem* e) const {
  ASAN_UNPOISON_MEMORY_REGION(reinterpret_cast<std::byte*>(e) + sizeof(Elem), elem_bytes_ - sizeof(Elem));
  e->next.store(nullptr, std::memory_order_relaxed);
  e->ref.store(0, std::memory_order_relaxed);
  e->lru_prev = e->lru_next = nullptr;
  return e;
}

// Inside a run the calling thread owns its RunDomain slot, so the slot's cache needs no lock: the
// element pool costs no atomic operation on the update path (the kernel's per-CPU freelists).
HashMap::Elem* HashMap::alloc_elem() {
  if (domain_->in_run()) {
    SlotPool& sp = slot_pools_[this_cpu()];
    if (!sp.free && sp.limbo_head) reclaim(sp.limbo_head, sp.limbo_tail, sp.free, domain_->safe_below());
    if (!sp.free) {
      std::lock_guard lock(pool_mu_);
      for (std::uint32_t k = 0; k < kSlotBatch; ++k) {
        Elem* e = take_global();
        if (!e) break;
        e->free_next = sp.free;
        sp.free = e;
      }
    }
    if (sp.free) {
      Elem* e = sp.free;
      sp.free = e->free_next;
      return fresh(e);
    }
  }
  std::lock_guard lock(pool_mu_);
  Elem* e = take_global();
  if (!e) {
    // Preallocated maps only get here while retired elements wait out a grace period.
    add_chunk(std::clamp<std::size_t>(spec_.max_entries / 16, 1, 64));
    e = take_global();
  }
  return fresh(e);
}

// pool_mu_ held. An element from the global free list, reclaiming its limbo first; null when empty.
HashMap::Elem* HashMap::take_global() {
  if (!free_ && limbo_head_) reclaim(limbo_head_, limbo_tail_, free_, domain_->safe_below());
  Elem* e = free_;
  if (e) {
    free_ = e->free_next;
  } else if (untouched_left_ > 0) {
    e = new (untouched_) Elem;
    untouched_ += elem_bytes_;
    --untouched_left_;
  }
  return e;
}

void HashMap::free_unused(Elem* e) {
  std::lock_guard lock(pool_mu_);
  e->free_next = free_;
  free_ = e;
}

// Limbo is a queue in retirement order, so the reusable elements are at its head: reclaiming costs
// what it frees, never a scan of everything still waiting. A slot's queue longer than kSlotLimbo
// moves to the global one, so elements a thread retires but never reuses return to everyone.
void HashMap::retire(Elem* e) {
  free_value_timer(value_of(e, 0));  // hashtab.c: a deleted or replaced element's timer is cancelled and freed
  const std::uint64_t tag = domain_->retire_tag();
  e->retire_tag = tag;
  e->free_next = nullptr;
  if (domain_->in_run()) {
    SlotPool& sp = slot_pools_[this_cpu()];
    (sp.limbo_tail ? sp.limbo_tail->free_next : sp.limbo_head) = e;
    sp.limbo_tail = e;
    if (++sp.limbo_count < kSlotLimbo) return;
    std::lock_guard lock(pool_mu_);
    (limbo_tail_ ? limbo_tail_->free_next : limbo_head_) = sp.limbo_head;
    limbo_tail_ = sp.limbo_tail;
    sp.limbo_head = sp.limbo_tail = nullptr;
    sp.limbo_count = 0;
    return;
  }
  std::lock_guard lock(pool_mu_);
  (limbo_tail_ ? limbo_tail_->free_next : limbo_head_) = e;
  limbo_tail_ = e;
}

bool HashMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  std::shared_lock lock(chunks_mu_);
  for (const Chunk& c : chunks_) {
    if (addr < c.begin || addr - c.begin >= c.elems * elem_bytes_) continue;
    const std::size_t in_elem = (addr - c.begin) % elem_bytes_;
    const std::size_t value_start = elem_bytes_ - std::size_t{value_stride_} * slots_;
    if (in_elem < value_start) return false;
    const std::size_t in_value = (in_elem - value_start) % value_stride_;
    return size_bytes <= spec_.value_size && in_value <= spec_.value_size - size_bytes;
  }
  return false;
}

// ---- LRU --------------------------------------------------------------------------------------

void HashMap::lru_push_head(Elem* e) {
  e->lru_prev = nullptr;
  e->lru_next = lru_head_;
  if (lru_head_) lru_head_->lru_prev = e;
  lru_head_ = e;
  if (!lru_tail_) lru_tail_ = e;
}

void HashMap::lru_remove(Elem* e) {
  (e->lru_prev ? e->lru_prev->lru_next : lru_head_) = e->lru_next;
  (e->lru_next ? e->lru_next->lru_prev : lru_tail_) = e->lru_prev;
  e->lru_prev = e->lru_next = nullptr;
}

// Evicts the oldest unreferenced element whose bucket we can lock without waiting (we hold lru_mu_,
// and bucket holders take lru_mu_ second, so waiting here could deadlock).
bool HashMap::evict_one() {
  Elem* victim = nullptr;
  {
    std::lock_guard lru_lock(lru_mu_);
    std::size_t budget = 2 * std::size_t{spec_.max_entries} + 2;
    for (Elem* e = lru_tail_; e && budget > 0; --budget) {
      Elem* prev = e->lru_prev;
      if (e->ref.load(std::memory_order_relaxed)) {  // second chance
        e->ref.store(0, std::memory_order_relaxed);
        lru_remove(e);
        lru_push_head(e);
        e = prev ? prev : lru_tail_;  // reached the head: wrap around to the (new) oldest
        continue;
      }
      Bucket& b = bucket_of(e->hash);
      BucketLock lock(b, std::try_to_lock);
      if (!lock.owns_lock()) {
        e = prev ? prev : lru_tail_;
        continue;
      }
      unlink(b, e);
      lru_remove(e);
      count_.fetch_sub(1, std::memory_order_relaxed);  // under the bucket lock (see erase())
      victim = e;
      break;
    }
  }
  if (!victim) return false;
  retire(victim);
  return true;
}

// hashtab.c prealloc_lru_pop: take an element, evicting when the map is full; nullptr -> -ENOMEM.
HashMap::Elem* HashMap::lru_reserve() {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::uint32_t c = count_.load(std::memory_order_relaxed);
    while (c < spec_.max_entries) {
      if (count_.compare_exchange_weak(c, c + 1, std::memory_order_relaxed)) return alloc_elem();
    }
    if (!evict_one()) std::this_thread::yield();
  }
  return nullptr;
}

// ---- update / delete --------------------------------------------------------------------------

void HashMap::init_value(Elem* e, const void* value, bool all_cpus) const {
  if (!percpu_) {
    std::byte* v = value_of(e, 0);
    std::memcpy(v, value, spec_.value_size);
    if (spec_.spin_lock_off >= 0) std::memset(v + spec_.spin_lock_off, 0, 4);
    return;
  }
  // hashtab.c pcpu_init_value: from a program, this CPU gets the value and the others zero.
  const unsigned me = this_cpu();
  for (unsigned cpu = 0; cpu < slots_; ++cpu) {
    std::byte* v = value_of(e, cpu);
    if (all_cpus)
      std::memcpy(v, percpu_slot(const_cast<void*>(value), spec_.value_size, cpu), value_stride_);
    else if (cpu == me)
      std::memcpy(v, value, spec_.value_size);
    else
      std::memset(v, 0, value_stride_);
  }
}

void HashMap::overwrite_percpu(Elem* e, const void* value, bool all_cpus) const {
  if (!all_cpus) return store_value(value_of(e, this_cpu()), value, spec_.value_size);
  for (unsigned cpu = 0; cpu < slots_; ++cpu)
    store_value(value_of(e, cpu), percpu_slot(const_cast<void*>(value), spec_.value_size, cpu),
                value_stride_);
}

int HashMap::update(const void* key, const void* value, std::uint64_t flags) {
  return do_update(key, value, flags, false);
}

int HashMap::update_from_host(const void* key, const void* value, std::uint64_t flags) {
  return do_update(key, value, flags, percpu_);
}

int HashMap::do_update(const void* key, const void* value, std::uint64_t flags, bool all_cpus) {
  // hashtab.c: plain hash accepts BPF_F_LOCK on top of ANY/NOEXIST/EXIST; per-CPU and LRU do not.
  if (percpu_ || lru_) {
    if (flags > kBpfExist) return -EINVAL;
  } else {
    if ((flags & ~kBpfFLock) > kBpfExist) return -EINVAL;
    if (int err = check_lock_flag(flags)) return err;
  }
  return lru_ ? update_lru(key, value, flags, all_cpus) : update_plain(key, value, flags, all_cpus);
}

namespace {
// hashtab.c check_flags.
int check_flags(bool exists, std::uint64_t flags) {
  if (exists && (flags & ~kBpfFLock) == kBpfNoexist) return -EEXIST;
  if (!exists && (flags & ~kBpfFLock) == kBpfExist) return -ENOENT;
  return 0;
}
}  // namespace

int HashMap::update_plain(const void* key, const void* value, std::uint64_t flags, bool all_cpus) {
  const std::uint32_t h = hash_key(key);
  Bucket& b = bucket_of(h);
  Elem* old = nullptr;
  {
    BucketLock lock(b);
    old = find(b, h, key);
    if (int err = check_flags(old != nullptr, flags)) return err;
    if (old && (flags & kBpfFLock)) {  // in place, under the value's own spin lock
      void* v = value_of(old, 0);
      ValueLock vlock(v, spec_.spin_lock_off);
      store_value_skip_lock(v, value, spec_.value_size, spec_.spin_lock_off);
      return 0;
    }
    if (old && percpu_) {  // per-CPU values are updated in place
      overwrite_percpu(old, value, all_cpus);
      return 0;
    }
    if (!old) {
      std::uint32_t c = count_.load(std::memory_order_relaxed);
      do {
        if (c >= spec_.max_entries) return -E2BIG;
      } while (!count_.compare_exchange_weak(c, c + 1, std::memory_order_relaxed));
    }
    Elem* e = alloc_elem();
    e->hash = h;
    std::memcpy(key_of(e), key, spec_.key_size);
    init_value(e, value, all_cpus);
    e->next.store(b.head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    b.head.store(e, std::memory_order_release);  // publish: readers find the new one first
    if (old) unlink(b, old);
  }
  if (old) retire(old);
  return 0;
}

int HashMap::update_lru(const void* key, const void* value, std::uint64_t flags, bool all_cpus) {
  const std::uint32_t h = hash_key(key);
  Bucket& b = bucket_of(h);
  // hashtab.c: the LRU per-CPU variant skips the allocation for BPF_EXIST; the others always take one.
  Elem* fresh = nullptr;
  if (!(percpu_ && flags == kBpfExist)) {
    fresh = lru_reserve();
    if (!fresh) return -ENOMEM;
    fresh->hash = h;
    std::memcpy(key_of(fresh), key, spec_.key_size);
    init_value(fresh, value, all_cpus);
  }
  Elem* old = nullptr;
  int err = 0;
  {
    BucketLock lock(b);
    old = find(b, h, key);
    err = check_flags(old != nullptr, flags);
    if (err) {
      old = nullptr;  // stays linked
    } else if (old && percpu_) {
      old->ref.store(1, std::memory_order_relaxed);
      overwrite_percpu(old, value, all_cpus);
      old = nullptr;  // stays linked
    } else {
      fresh->next.store(b.head.load(std::memory_order_relaxed), std::memory_order_relaxed);
      b.head.store(fresh, std::memory_order_release);
      std::lock_guard lru_lock(lru_mu_);
      lru_push_head(fresh);
      if (old) {
        fresh->ref.store(1, std::memory_order_relaxed);
        unlink(b, old);
        lru_remove(old);
        count_.fetch_sub(1, std::memory_order_relaxed);  // under the bucket lock (see erase())
      }
      fresh = nullptr;  // linked
    }
  }
  if (fresh) {  // not used: give back its reservation
    count_.fetch_sub(1, std::memory_order_relaxed);
    free_unused(fresh);
  }
  if (old) retire(old);
  return err;
}

// The live count drops inside the bucket lock, together with the unlink: once the lock is released
// another thread may re-insert the same key, and a count still holding the erased element would then
// count that key twice and refuse a later insert with -E2BIG while the map has room.
int HashMap::erase(const void* key) {
  const std::uint32_t h = hash_key(key);
  Bucket& b = bucket_of(h);
  Elem* e;
  {
    BucketLock lock(b);
    e = find(b, h, key);
    if (!e) return -ENOENT;
    unlink(b, e);
    count_.fetch_sub(1, std::memory_order_relaxed);
    if (lru_) {
      std::lock_guard lru_lock(lru_mu_);
      lru_remove(e);
    }
  }
  retire(e);
  return 0;
}

// ---- host side --------------------------------------------------------------------------------

void HashMap::copy_out(Elem* e, void* out, std::uint64_t flags) const {
  if (percpu_) {
    for (unsigned cpu = 0; cpu < slots_; ++cpu)
      load_value(percpu_slot(out, spec_.value_size, cpu), value_of(e, cpu), value_stride_);
    return;
  }
  void* v = value_of(e, 0);
  if (flags & kBpfFLock) {
    ValueLock vlock(v, spec_.spin_lock_off);
    load_value_skip_lock(out, v, spec_.value_size, spec_.spin_lock_off);
  } else {
    load_value_skip_lock(out, v, spec_.value_size, spec_.spin_lock_off);
  }
}

// bpf() lookups never set the LRU reference bit (htab_lru_map_lookup_elem_sys).
int HashMap::copy_value(const void* key, void* out, std::uint64_t flags) {
  const std::uint32_t h = hash_key(key);
  Bucket& b = bucket_of(h);
  BucketLock lock(b);
  Elem* e = find(b, h, key);
  if (!e) return -ENOENT;
  copy_out(e, out, flags);
  return 0;
}

int HashMap::copy_and_erase(const void* key, void* out, std::uint64_t flags) {
  const std::uint32_t h = hash_key(key);
  Bucket& b = bucket_of(h);
  Elem* e;
  {
    BucketLock lock(b);
    e = find(b, h, key);
    if (!e) return -ENOENT;
    copy_out(e, out, flags);
    unlink(b, e);
    count_.fetch_sub(1, std::memory_order_relaxed);  // under the bucket lock (see erase())
    if (lru_) {
      std::lock_guard lru_lock(lru_mu_);
      lru_remove(e);
    }
  }
  retire(e);
  return 0;
}

// hashtab.c htab_map_get_next_key: a missing key restarts from the first element.
int HashMap::next_key(const void* key, void* next) {
  std::uint32_t i = 0;
  if (key) {
    const std::uint32_t h = hash_key(key);
    Bucket& b = bucket_of(h);
    BucketLock lock(b);
    if (Elem* e = find(b, h, key)) {
      if (Elem* n = e->next.load(std::memory_order_relaxed)) {
        std::memcpy(next, key_of(n), spec_.key_size);
        return 0;
      }
      i = (h & (n_buckets_ - 1)) + 1;
    }
  }
  for (; i < n_buckets_; ++i) {
    if (!buckets_[i].head.load(std::memory_order_acquire)) continue;
    BucketLock lock(buckets_[i]);
    if (Elem* e = buckets_[i].head.load(std::memory_order_relaxed)) {
      std::memcpy(next, key_of(e), spec_.key_size);
      return 0;
    }
  }
  return -ENOENT;
}

// hashtab.c __htab_map_lookup_batch: the cursor is a u32 bucket index; whole buckets are copied, and
// a bucket that does not fit in the remaining room ends the batch (-ENOSPC if nothing was copied).
int HashMap::batch_walk(const void* in_batch, void* out_batch, void* keys, void* values,
                        std::uint32_t& count, std::uint64_t elem_flags, bool and_delete) {
  const std::uint32_t max_count = count;
  count = 0;
  std::uint32_t batch = 0;
  if (in_batch) std::memcpy(&batch, in_batch, 4);
  if (batch >= n_buckets_) return -ENOENT;
  const std::uint32_t vs = host_value_size();
  std::uint32_t total = 0;
  int ret = 0;
  std::vector<Elem*> doomed;
  for (;;) {
    Bucket& b = buckets_[batch];
    {
      BucketLock lock(b);
      std::uint32_t n = 0;
      for (Elem* e = b.head.load(std::memory_order_relaxed); e; e = e->next.load(std::memory_order_relaxed)) ++n;
      if (n > max_count - total) {
        if (total == 0) ret = -ENOSPC;
        break;
      }
      for (Elem* e = b.head.load(std::memory_order_relaxed); e; e = e->next.load(std::memory_order_relaxed)) {
        std::memcpy(static_cast<std::byte*>(keys) + std::size_t{spec_.key_size} * total, key_of(e),
                    spec_.key_size);
        copy_out(e, static_cast<std::byte*>(values) + std::size_t{vs} * total, elem_flags);
        ++total;
        if (and_delete) doomed.push_back(e);
      }
      for (Elem* e : doomed) {
        unlink(b, e);
        count_.fetch_sub(1, std::memory_order_relaxed);  // under the bucket lock (see erase())
        if (lru_) {
          std::lock_guard lru_lock(lru_mu_);
          lru_remove(e);
        }
      }
    }
    for (Elem* e : doomed) retire(e);
    doomed.clear();
    if (++batch >= n_buckets_) {
      ret = -ENOENT;
      break;
    }
  }
  if (out_batch) std::memcpy(out_batch, &batch, 4);
  count = total;
  return ret;
}

}  // namespace bpfvm::maps
