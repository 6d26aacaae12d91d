// Map: the interface every map type implements — program-side helpers and host-side bpf() commands.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "bpfvm/result.hpp"
#include "maps/map_spec.hpp"
#include "maps/run_domain.hpp"
#include "maps/timer_field.hpp"
#include "vm/direct_array.hpp"
#include "vm/direct_lookup.hpp"
#include "vm/run_context.hpp"

namespace bpfvm::maps {

/// One map. Two faces:
///  - program side (what helpers call, kernel helper semantics): lookup, update, erase, push/pop/peek;
///    a per-CPU map works on the calling thread's slot (RunDomain::this_cpu()).
///  - host side (what the bpf() syscall does, with its permission checks): lookup_copy, host_update,
///    host_erase, get_next_key, lookup_and_delete, batches, freeze. Per-CPU values are all slots,
///    each rounded up to 8 bytes (host_value_size()).
/// Every int result is 0 or the kernel's negative errno for that type and flag.
/// All operations are safe to call from many threads at once.
class Map : public vm::MemoryOwner {
 public:
  Map(const MapSpec& spec, std::shared_ptr<RunDomain> domain);
  ~Map() override;
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;

  const MapSpec& spec() const { return spec_; }
  MapType type() const { return spec_.type; }
  const std::string& name() const { return spec_.name; }
  /// The id bpf() would report (map-in-map lookups return it); MapTable assigns index + 1.
  std::uint32_t id() const { return id_; }
  void set_id(std::uint32_t id) { id_ = id; }
  RunDomain& domain() const { return *domain_; }
  /// Bytes a host value buffer holds: value_size, or nr_cpus * round_up(value_size, 8) for per-CPU.
  std::uint32_t host_value_size() const;

  // ---- program side -------------------------------------------------------------------------
  /// bpf_map_lookup_elem: the in-program value pointer, or nullptr. Stays valid until the element is
  /// deleted and the current RunGuard ends (hash/trie), or until the map is destroyed (arrays).
  virtual void* lookup(const void* key);
  /// bpf_map_lookup_percpu_elem: the value of CPU slot `cpu` (per-CPU types; nullptr for a cpu at or
  /// past nr_cpus, a missing element, or a type without per-CPU values).
  virtual void* lookup_percpu(const void* key, std::uint32_t cpu);
  /// bpf_map_update_elem with the kernel's flags (BPF_ANY/NOEXIST/EXIST, BPF_F_LOCK).
  virtual int update(const void* key, const void* value, std::uint64_t flags);
  /// bpf_map_delete_elem.
  virtual int erase(const void* key);
  /// bpf_map_push_elem / pop / peek (queue, stack, bloom filter); -EINVAL elsewhere.
  virtual int push(const void* value, std::uint64_t flags);
  virtual int pop(void* value);
  virtual int peek(void* value);
  /// The address arithmetic lookup() performs, for maps whose values never move (plain arrays);
  /// engines may inline it. Per-CPU and hashed maps return nullopt.
  virtual std::optional<vm::DirectArray> direct_array() const { return std::nullopt; }
  /// An entry doing what lookup() does from a program, called with (this map's handle, key): engines
  /// may call it instead of the helper when the call's map is known. nullptr: use the helper.
  virtual vm::DirectLookupFn direct_lookup() const { return nullptr; }

  // ---- host side (bpf() commands) -----------------------------------------------------------
  /// BPF_MAP_LOOKUP_ELEM: copies host_value_size() bytes into `out`.
  int lookup_copy(const void* key, void* out, std::uint64_t flags = 0);
  /// BPF_MAP_UPDATE_ELEM: `value` holds host_value_size() bytes (fd arrays: a u32 fd/index).
  int host_update(const void* key, const void* value, std::uint64_t flags);
  /// BPF_MAP_DELETE_ELEM.
  int host_erase(const void* key);
  /// BPF_MAP_GET_NEXT_KEY: key == nullptr asks for the first key.
  int get_next_key(const void* key, void* next);
  /// BPF_MAP_LOOKUP_AND_DELETE_ELEM (queue/stack: pop, key ignored; hash family: copy then delete).
  int lookup_and_delete(const void* key, void* out, std::uint64_t flags = 0);
  /// BPF_MAP_FREEZE: afterwards host writes fail with -EPERM; programs may still write.
  int freeze();
  bool frozen() const { return frozen_.load(std::memory_order_acquire); }

  /// BPF_MAP_LOOKUP_BATCH / LOOKUP_AND_DELETE_BATCH. `in_batch` (nullptr = start) and `out_batch`
  /// are cursors of batch_cursor_size() bytes. On entry `count` is the room in keys/values (in
  /// elements), on return how many were copied. Returns -ENOENT when the walk reached the end.
  int lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                   std::uint32_t& count, std::uint64_t elem_flags = 0, bool and_delete = false);
  /// BPF_MAP_UPDATE_BATCH: stops at the first failing element; `count` = elements applied.
  int update_batch(const void* keys, const void* values, std::uint32_t& count,
                   std::uint64_t elem_flags = 0);
  /// BPF_MAP_DELETE_BATCH: stops at the first failing element; `count` = elements deleted.
  int delete_batch(const void* keys, std::uint32_t& count, std::uint64_t elem_flags = 0);
  /// Cursor bytes for batches: key_size (generic key walk) or 4 (hash maps: a bucket index).
  virtual std::uint32_t batch_cursor_size() const { return spec_.key_size; }
  /// Which batch commands the type has (the kernel returns -ENOTSUPP for the others).
  enum BatchOps : unsigned { kBatchLookup = 1, kBatchLookupAndDelete = 2, kBatchUpdate = 4, kBatchDelete = 8 };
  virtual unsigned batch_ops() const { return 0; }

  /// bpf_timer (maps/timer_field.hpp): who keeps the timers of this map's values; set at the first
  /// bpf_timer_init on one, told when a value holding a timer is freed or overwritten and when the map
  /// is destroyed.
  void set_timer_owner(TimerFieldOwner* owner) { timer_owner_.store(owner, std::memory_order_release); }
  /// The key of the element whose value starts at `value` into `key` (key_size bytes); false when this
  /// map cannot say (types without bpf_timer values).
  virtual bool key_of_value(const void* value, void* key) const;

  /// vm::MemoryOwner: does [addr, addr+size) lie in value memory this map handed to programs?
  bool owns(std::uintptr_t addr, std::size_t size_bytes, bool write) const override;

 protected:
  /// Host lookup body (after permission/flag checks). Default: copy through lookup().
  virtual int copy_value(const void* key, void* out, std::uint64_t flags);
  /// Host update body. Default: update() (per-CPU and fd maps override).
  virtual int update_from_host(const void* key, const void* value, std::uint64_t flags);
  /// Host delete body. Default: erase().
  virtual int erase_from_host(const void* key) { return erase(key); }
  /// get_next_key body. Default: -EINVAL.
  virtual int next_key(const void* key, void* next);
  /// lookup_and_delete body for types that support it; default -ENOTSUPP.
  virtual int copy_and_erase(const void* key, void* out, std::uint64_t flags);
  /// Batch walk body; default walks keys with next_key().
  virtual int batch_walk(const void* in_batch, void* out_batch, void* keys, void* values,
                         std::uint32_t& count, std::uint64_t elem_flags, bool and_delete);
  /// Value memory check without the RDONLY_PROG rule (applied by owns()).
  virtual bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const;

  /// -EINVAL if BPF_F_LOCK is set and the value has no bpf_spin_lock.
  int check_lock_flag(std::uint64_t flags) const {
    return (flags & kBpfFLock) && spec_.spin_lock_off < 0 ? -EINVAL : 0;
  }
  unsigned this_cpu() const { return domain_->this_cpu(); }
  /// The value at `value` is freed or overwritten: its bpf_timer, if it has one, is cancelled and freed.
  void free_value_timer(const std::byte* value) const {
    if (spec_.timer_off < 0) return;
    if (auto* owner = timer_owner_.load(std::memory_order_acquire)) owner->free_timer(value + spec_.timer_off);
  }

  MapSpec spec_;
  std::shared_ptr<RunDomain> domain_;

 private:
  bool sys_can_read() const { return !(spec_.map_flags & kBpfFWronly); }
  bool sys_can_write() const { return !(spec_.map_flags & kBpfFRdonly) && !frozen(); }
  std::atomic<bool> frozen_{false};
  std::atomic<TimerFieldOwner*> timer_owner_{nullptr};
  std::uint32_t id_ = 0;
};

/// What create_map() checks before it allocates anything: check_map_spec(), our own ceiling on memory
/// allocated up front, and that bpfvm implements the type; the same errors.
Result<void> check_map_creatable(const MapSpec& spec, unsigned nr_cpus);

/// Builds any supported map after check_map_creatable(); Errc::InvalidArgument carries the kernel errno
/// name in its reason ("EINVAL: array key_size must be 4"), Errc::Unsupported for types we lack.
/// `domain` = nullptr gives the map a private RunDomain (nr_cpus = hardware_concurrency).
Result<std::unique_ptr<Map>> create_map(const MapSpec& spec, std::shared_ptr<RunDomain> domain = nullptr);

/// Mutable and typed views of a host buffer with one value per CPU slot.
inline std::byte* percpu_slot(void* values, std::uint32_t value_size, unsigned cpu) {
  return static_cast<std::byte*>(values) + std::size_t{percpu_value_stride(value_size)} * cpu;
}

}  // namespace bpfvm::maps
