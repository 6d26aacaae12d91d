// create_map: the kernel's BPF_MAP_CREATE checks (syscall.c map_create + each type's alloc check) and the factory.
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

#include "maps/array_map.hpp"
#include "maps/array_of_maps_map.hpp"
#include "maps/bloom_filter_map.hpp"
#include "maps/cgroup_storage_map.hpp"
#include "maps/cgroup_array_map.hpp"
#include "maps/devmap_hash_map.hpp"
#include "maps/hash_map.hpp"
#include "maps/hash_of_maps_map.hpp"
#include "maps/local_storage_map.hpp"
#include "maps/lpm_trie_map.hpp"
#include "maps/percpu_array_map.hpp"
#include "maps/perf_event_array_map.hpp"
#include "maps/prog_array_map.hpp"
#include "maps/queue_stack_map.hpp"
#include "maps/redirect_array_map.hpp"
#include "maps/ringbuf_map.hpp"
#include "maps/reuseport_array_map.hpp"
#include "maps/sock_map.hpp"
#include "maps/stack_trace_map.hpp"
#include "maps/user_ringbuf_map.hpp"

namespace bpfvm::maps {
namespace {

constexpr std::array<const char*, 34> kTypeNames = {
    "UNSPEC", "HASH", "ARRAY", "PROG_ARRAY", "PERF_EVENT_ARRAY", "PERCPU_HASH", "PERCPU_ARRAY",
    "STACK_TRACE", "CGROUP_ARRAY", "LRU_HASH", "LRU_PERCPU_HASH", "LPM_TRIE", "ARRAY_OF_MAPS",
    "HASH_OF_MAPS", "DEVMAP", "SOCKMAP", "CPUMAP", "XSKMAP", "SOCKHASH", "CGROUP_STORAGE",
    "REUSEPORT_SOCKARRAY", "PERCPU_CGROUP_STORAGE", "QUEUE", "STACK", "SK_STORAGE", "DEVMAP_HASH",
    "STRUCT_OPS", "RINGBUF", "INODE_STORAGE", "TASK_STORAGE", "BLOOM_FILTER", "USER_RINGBUF",
    "CGRP_STORAGE", "ARENA"};

// Kernel limits (x86-64): KMALLOC_MAX_SIZE = 4 MiB, PCPU_MIN_UNIT_SIZE = 32 KiB, a 4 KiB page.
constexpr std::uint64_t kKmallocMaxBytes = std::uint64_t{1} << 22;
constexpr std::uint64_t kPcpuMinUnitBytes = 32 * 1024;
constexpr std::uint64_t kHtabElemHeaderBytes = 48;  // sizeof(struct htab_elem)
constexpr std::uint64_t kPageBytes = 4096;
constexpr std::uint32_t kLpmDataSizeMax = 256;
constexpr std::uint32_t kMaxBpfStackBytes = 512;  // MAX_BPF_STACK
// BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: U16_MAX - sizeof(struct bpf_local_storage_elem); 65407 measured on
// 6.18 (the element header is 128 bytes there).
constexpr std::uint32_t kLocalStorageMaxValue = 65407;
// cpumap.c refuses max_entries above NR_CPUS, a kernel build option: 8192 is the x86-64 distribution
// value (CONFIG_MAXSMP); the 6.18 test machine's kernel has 256.
constexpr std::uint32_t kNrCpus = 8192;
// Our own ceiling on memory one map may allocate up front; above it creation fails with -ENOMEM.
constexpr std::uint64_t kMaxUpfrontBytes = std::uint64_t{1} << 31;

SpecProblem fail(int err, std::string reason) { return SpecProblem{err, std::move(reason)}; }

bool access_ok(std::uint32_t flags) {  // bpf_map_flags_access_ok
  return (flags & (kBpfFRdonlyProg | kBpfFWronlyProg)) != (kBpfFRdonlyProg | kBpfFWronlyProg);
}

bool valid_name(const std::string& name) {  // syscall.c bpf_obj_name_cpy
  if (name.size() >= 16) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

SpecProblem check_array(const MapSpec& s) {  // arraymap.c array_map_alloc_check
  const bool percpu = s.type == MapType::PercpuArray;
  constexpr std::uint32_t mask = kBpfFNumaNode | kBpfFMmapable | kBpfFAccessMask | kBpfFPreserveElems | kBpfFInnerMap;
  if (s.max_entries == 0) return fail(-EINVAL, "array max_entries must be > 0");
  if (s.key_size != 4) return fail(-EINVAL, "array key_size must be 4");
  if (s.value_size == 0) return fail(-EINVAL, "array value_size must be > 0");
  if ((s.map_flags & ~mask) || !access_ok(s.map_flags)) return fail(-EINVAL, "array map_flags not supported");
  if (s.type != MapType::Array && (s.map_flags & (kBpfFMmapable | kBpfFInnerMap)))
    return fail(-EINVAL, "BPF_F_MMAPABLE/BPF_F_INNER_MAP only for BPF_MAP_TYPE_ARRAY");
  if (s.type != MapType::PerfEventArray && (s.map_flags & kBpfFPreserveElems))
    return fail(-EINVAL, "BPF_F_PRESERVE_ELEMS only for BPF_MAP_TYPE_PERF_EVENT_ARRAY");
  if (s.value_size > 0x7fffffffu) return fail(-E2BIG, "array value_size too large");
  if (percpu && percpu_value_stride(s.value_size) > kPcpuMinUnitBytes)
    return fail(-E2BIG, "per-CPU value_size above 32 KiB");
  return {};
}

SpecProblem check_fd_array(const MapSpec& s) {  // arraymap.c fd_array_map_alloc_check
  if (s.value_size != 4) return fail(-EINVAL, map_type_name(s.type) + " value_size must be 4");
  if (s.map_flags & (kBpfFRdonlyProg | kBpfFWronlyProg))
    return fail(-EINVAL, "BPF_F_RDONLY_PROG/WRONLY_PROG not supported for fd arrays");
  return check_array(s);
}

SpecProblem check_hash(const MapSpec& s) {  // hashtab.c htab_map_alloc_check
  const bool percpu = s.type == MapType::PercpuHash || s.type == MapType::LruPercpuHash;
  const bool lru = s.type == MapType::LruHash || s.type == MapType::LruPercpuHash;
  constexpr std::uint32_t mask = kBpfFNoPrealloc | kBpfFNoCommonLru | kBpfFNumaNode | kBpfFAccessMask | kBpfFZeroSeed;
  if ((s.map_flags & ~mask) || !access_ok(s.map_flags)) return fail(-EINVAL, "hash map_flags not supported");
  if (!lru && (s.map_flags & kBpfFNoCommonLru)) return fail(-EINVAL, "BPF_F_NO_COMMON_LRU needs an LRU map");
  if (lru && (s.map_flags & kBpfFNoPrealloc)) return fail(-kENOTSUPP, "LRU maps must be preallocated");
  if ((s.map_flags & kBpfFNumaNode) && (percpu || (s.map_flags & kBpfFNoCommonLru)))
    return fail(-EINVAL, "BPF_F_NUMA_NODE not supported for per-CPU maps");
  if (s.max_entries == 0 || s.key_size == 0 || s.value_size == 0)
    return fail(-EINVAL, "hash max_entries, key_size and value_size must be > 0");
  if (std::uint64_t{s.key_size} + s.value_size >= kKmallocMaxBytes - kHtabElemHeaderBytes)
    return fail(-E2BIG, "hash key_size + value_size too large");
  if (percpu && percpu_value_stride(s.value_size) > kPcpuMinUnitBytes)
    return fail(-E2BIG, "per-CPU value_size above 32 KiB");
  if (s.max_entries > (1u << 31)) return fail(-E2BIG, "hash max_entries too large");
  return {};
}

// devmap.c dev_map_alloc_check, cpumap.c cpu_map_alloc, xskmap.c xsk_map_alloc_check: key u32; value
// struct bpf_devmap_val / bpf_cpumap_val (4 bytes, or 8 with a program fd) or an xsk fd (4 bytes).
SpecProblem check_redirect_map(const MapSpec& s) {
  const bool cpumap = s.type == MapType::Cpumap;
  const bool xsk = s.type == MapType::Xskmap;
  const std::uint32_t mask = cpumap ? kBpfFNumaNode : kBpfFNumaNode | kBpfFRdonly | kBpfFWronly;
  if (s.max_entries == 0 || s.key_size != 4 || (s.value_size != 4 && (xsk || s.value_size != 8)) ||
      (s.map_flags & ~mask))
    return fail(-EINVAL, map_type_name(s.type) + " needs key_size 4, value_size 4" + (xsk ? "" : " or 8") +
                             ", max_entries > 0 and only the NUMA/RDONLY/WRONLY flags");
  if (s.type == MapType::DevmapHash && s.max_entries > (1u << 31))
    return fail(-EINVAL, "devmap_hash max_entries above 2^31");
  if (cpumap && s.max_entries > kNrCpus) return fail(-E2BIG, "cpumap max_entries above NR_CPUS (8192)");
  return {};
}

SpecProblem check_inner(const MapSpec& s) {  // map_in_map.c bpf_map_meta_alloc
  if (!s.inner) return fail(-EBADF, map_type_name(s.type) + " needs an inner map template");
  if (s.inner->type == MapType::ArrayOfMaps || s.inner->type == MapType::HashOfMaps)
    return fail(-EINVAL, "an inner map cannot itself be a map-in-map");
  return {};
}

SpecProblem check_local_storage(const MapSpec& s) {  // bpf_local_storage.c bpf_local_storage_map_alloc_check
  if ((s.map_flags & ~(kBpfFNoPrealloc | kBpfFClone)) || !(s.map_flags & kBpfFNoPrealloc) || s.max_entries != 0 ||
      s.key_size != 4 || s.value_size == 0 || !s.btf_key_value)
    return fail(-EINVAL, map_type_name(s.type) + " needs key_size 4 (an fd), value_size > 0, max_entries 0, "
                             "BPF_F_NO_PREALLOC (only it and BPF_F_CLONE) and BTF for key and value");
  if (s.value_size > kLocalStorageMaxValue) return fail(-E2BIG, "local storage value_size above 65407");
  return {};
}

SpecProblem check_type(const MapSpec& s) {
  constexpr std::uint32_t queue_mask = kBpfFNumaNode | kBpfFAccessMask;
  switch (s.type) {
    case MapType::Array:
    case MapType::PercpuArray:
      return check_array(s);
    case MapType::ProgArray:
    case MapType::PerfEventArray:
    case MapType::CgroupArray:
      return check_fd_array(s);
    case MapType::Devmap:
    case MapType::DevmapHash:
    case MapType::Cpumap:
    case MapType::Xskmap:
      return check_redirect_map(s);
    case MapType::ArrayOfMaps: {
      if (auto p = check_fd_array(s); p.err) return p;
      return check_inner(s);
    }
    case MapType::Hash:
    case MapType::PercpuHash:
    case MapType::LruHash:
    case MapType::LruPercpuHash:
      return check_hash(s);
    case MapType::HashOfMaps: {
      if (s.value_size != 4) return fail(-EINVAL, "BPF_MAP_TYPE_HASH_OF_MAPS value_size must be 4");
      if (auto p = check_hash(s); p.err) return p;
      return check_inner(s);
    }
    case MapType::LpmTrie: {  // lpm_trie.c trie_alloc
      constexpr std::uint32_t mask = kBpfFNoPrealloc | kBpfFNumaNode | kBpfFAccessMask;
      if (s.max_entries == 0) return fail(-EINVAL, "lpm_trie max_entries must be > 0");
      if (!(s.map_flags & kBpfFNoPrealloc)) return fail(-EINVAL, "lpm_trie requires BPF_F_NO_PREALLOC");
      if ((s.map_flags & ~mask) || !access_ok(s.map_flags)) return fail(-EINVAL, "lpm_trie map_flags not supported");
      if (s.key_size < 4 + 1 || s.key_size > 4 + kLpmDataSizeMax)
        return fail(-EINVAL, "lpm_trie key_size must be 5..260 (u32 prefixlen + 1..256 data bytes)");
      if (s.value_size < 1 || s.value_size > kKmallocMaxBytes - kLpmDataSizeMax - 32)
        return fail(-EINVAL, "lpm_trie value_size out of range");
      return {};
    }
    case MapType::Queue:
    case MapType::Stack:  // queue_stack_maps.c queue_stack_map_alloc_check
      if (s.max_entries == 0 || s.key_size != 0 || s.value_size == 0 || (s.map_flags & ~queue_mask) ||
          !access_ok(s.map_flags))
        return fail(-EINVAL, "queue/stack need key_size 0, value_size > 0, max_entries > 0");
      if (s.value_size > kKmallocMaxBytes) return fail(-E2BIG, "queue/stack value_size too large");
      return {};
    case MapType::BloomFilter: {  // bloom_filter.c bloom_map_alloc_check
      constexpr std::uint32_t mask = kBpfFNumaNode | kBpfFZeroSeed | kBpfFAccessMask;
      if (s.key_size != 0 || s.value_size == 0 || s.max_entries == 0 || (s.map_flags & ~mask) ||
          !access_ok(s.map_flags) || (s.map_extra & ~std::uint64_t{0xf}))
        return fail(-EINVAL, "bloom filter needs key_size 0, value_size > 0, max_entries > 0, map_extra <= 15");
      if (s.value_size > kKmallocMaxBytes) return fail(-E2BIG, "bloom filter value_size too large");
      return {};
    }
    case MapType::Ringbuf:  // ringbuf.c ringbuf_map_alloc (both types' map_alloc)
    case MapType::UserRingbuf:
      if (s.map_flags & ~kBpfFNumaNode) return fail(-EINVAL, map_type_name(s.type) + " map_flags not supported");
      if (s.key_size || s.value_size || s.max_entries == 0 || (s.max_entries & (s.max_entries - 1)) ||
          (s.max_entries % kPageBytes))
        return fail(-EINVAL, map_type_name(s.type) + " needs key_size 0, value_size 0, max_entries a page-aligned power of 2");
      return {};
    case MapType::Sockmap:
    case MapType::Sockhash: {  // sock_map.c sock_map_alloc / sock_hash_alloc
      const bool hash = s.type == MapType::Sockhash;
      if (s.max_entries == 0 || (hash ? s.key_size == 0 : s.key_size != 4) || (s.value_size != 4 && s.value_size != 8) ||
          (s.map_flags & ~(kBpfFNumaNode | kBpfFRdonly | kBpfFWronly)))
        return fail(-EINVAL, map_type_name(s.type) + (hash ? " needs key_size > 0" : " needs key_size 4") +
                                 ", value_size 4 or 8, max_entries > 0 and only the NUMA/RDONLY/WRONLY flags");
      if (hash && s.key_size > kMaxBpfStackBytes) return fail(-E2BIG, "sockhash key_size above 512");
      return {};
    }
    case MapType::SkStorage:
    case MapType::InodeStorage:
    case MapType::TaskStorage:
    case MapType::CgrpStorage:
      return check_local_storage(s);
    case MapType::Unspec:
      return fail(-EINVAL, "BPF_MAP_TYPE_UNSPEC");
    case MapType::ReuseportSockarray:  // reuseport_array.c reuseport_array_alloc_check
      if (s.value_size != 4 && s.value_size != 8)
        return fail(-EINVAL, "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY value_size must be 4 or 8");
      return check_array(s);
    case MapType::StackTrace:  // stackmap.c stack_map_alloc
      return check_stack_trace_spec(s);
    case MapType::CgroupStorage:  // local_storage.c cgroup_storage_map_alloc
    case MapType::PercpuCgroupStorage:
      return check_cgroup_storage_spec(s);
    case MapType::StructOps:
    case MapType::Arena:
      return {};  // kernel types bpfvm does not model; create_map reports Unsupported
  }
  return fail(-EINVAL, "unknown map type " + std::to_string(static_cast<std::uint32_t>(s.type)));
}

}  // namespace

std::string map_type_name(MapType type) {
  const auto n = static_cast<std::uint32_t>(type);
  if (n < kTypeNames.size()) return std::string("BPF_MAP_TYPE_") + kTypeNames[n];
  return "BPF_MAP_TYPE_" + std::to_string(n);
}

std::uint64_t map_memory_bytes(const MapSpec& s, unsigned nr_cpus) {
  const std::uint64_t v8 = percpu_value_stride(s.value_size);
  const std::uint64_t cpus = is_percpu(s.type) ? nr_cpus : 1;
  switch (s.type) {
    case MapType::Array:
    case MapType::PercpuArray:
      return std::uint64_t{s.max_entries} * v8 * cpus;
    case MapType::Hash:
    case MapType::PercpuHash:
    case MapType::LruHash:
    case MapType::LruPercpuHash: {
      const std::uint64_t buckets = std::uint64_t{s.max_entries} * 2 * 16;
      if (s.map_flags & kBpfFNoPrealloc) return buckets;
      return buckets + std::uint64_t{s.max_entries} * (48 + percpu_value_stride(s.key_size) + v8 * cpus);
    }
    case MapType::Queue:
    case MapType::Stack:
      return (std::uint64_t{s.max_entries} + 1) * s.value_size;
    case MapType::BloomFilter:
      return std::uint64_t{s.max_entries} * 16 / 8;
    case MapType::Ringbuf:
    case MapType::UserRingbuf:
      return s.max_entries;
    case MapType::StackTrace:  // the bucket pointer array; no trace is ever stored (stack_trace_map.hpp)
      return std::bit_ceil(std::uint64_t{s.max_entries}) * 8;
    case MapType::DevmapHash:
    case MapType::Sockmap:
    case MapType::Sockhash:
      return 0;  // entries are allocated as they are inserted
    default:
      return std::uint64_t{s.max_entries} * 16;
  }
}

SpecProblem check_map_spec(const MapSpec& spec) {
  // syscall.c map_create, in its order: map_extra, access flags, type, the type's own check, name.
  if (spec.type != MapType::BloomFilter && spec.type != MapType::Arena && spec.map_extra != 0)
    return fail(-EINVAL, "map_extra is only for bloom filters");
  if ((spec.map_flags & kBpfFRdonly) && (spec.map_flags & kBpfFWronly))
    return fail(-EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together");
  if (static_cast<std::uint32_t>(spec.type) >= kTypeNames.size())
    return fail(-EINVAL, "unknown map type " + std::to_string(static_cast<std::uint32_t>(spec.type)));
  if (auto p = check_type(spec); p.err) return p;
  // map_check_btf: a struct bpf_spin_lock in the value is only for these types (of the ones bpfvm has).
  if (spec.spin_lock_off >= 0 && spec.type != MapType::Hash && spec.type != MapType::Array &&
      spec.type != MapType::CgroupStorage && !is_local_storage(spec.type))
    return fail(-EOPNOTSUPP, "a value with a struct bpf_spin_lock needs a hash, array, cgroup storage or local storage map");
  if (spec.timer_off >= 0 && spec.type != MapType::Hash && spec.type != MapType::LruHash && spec.type != MapType::Array)
    return fail(-EOPNOTSUPP, "a value with a struct bpf_timer needs a hash, LRU hash or array map");
  if (!valid_name(spec.name)) return fail(-EINVAL, "map name must be < 16 chars of [A-Za-z0-9_.]");
  return {};
}

namespace {

using MapFactory = Result<std::unique_ptr<Map>> (*)(const MapSpec&, std::shared_ptr<RunDomain>);

template <class M>
Result<std::unique_ptr<Map>> make(const MapSpec& spec, std::shared_ptr<RunDomain> domain) {
  return std::unique_ptr<Map>(std::make_unique<M>(spec, std::move(domain)));
}

template <class M>
Result<std::unique_ptr<Map>> make_checked(const MapSpec& spec, std::shared_ptr<RunDomain> domain) {
  auto m = M::create(spec, std::move(domain));
  if (!m) return std::move(m).error();
  return std::unique_ptr<Map>(std::move(m).value());
}

// The constructor of a map type bpfvm implements; nullptr for the others.
MapFactory factory_of(MapType type) {
  switch (type) {
    case MapType::Array: return make<ArrayMap>;
    case MapType::PercpuArray: return make<PercpuArrayMap>;
    case MapType::ProgArray: return make<ProgArrayMap>;
    case MapType::PerfEventArray: return make<PerfEventArrayMap>;
    case MapType::ArrayOfMaps: return make<ArrayOfMapsMap>;
    case MapType::Hash:
    case MapType::PercpuHash:
    case MapType::LruHash:
    case MapType::LruPercpuHash: return make<HashMap>;
    case MapType::HashOfMaps: return make<HashOfMapsMap>;
    case MapType::LpmTrie: return make<LpmTrieMap>;
    case MapType::Queue:
    case MapType::Stack: return make<QueueStackMap>;
    case MapType::BloomFilter: return make<BloomFilterMap>;
    case MapType::CgroupArray: return make<CgroupArrayMap>;
    case MapType::Devmap:
    case MapType::Cpumap:
    case MapType::Xskmap: return make<RedirectArrayMap>;
    case MapType::DevmapHash: return make<DevmapHashMap>;
    case MapType::Sockmap:
    case MapType::Sockhash: return make<SockMap>;
    case MapType::ReuseportSockarray: return make<ReuseportArrayMap>;
    case MapType::StackTrace: return make<StackTraceMap>;
    case MapType::CgroupStorage:
    case MapType::PercpuCgroupStorage: return make<CgroupStorageMap>;
    case MapType::SkStorage:
    case MapType::InodeStorage:
    case MapType::TaskStorage:
    case MapType::CgrpStorage: return make<LocalStorageMap>;
    case MapType::Ringbuf: return make_checked<RingbufMap>;
    case MapType::UserRingbuf: return make_checked<UserRingbufMap>;
    default: return nullptr;
  }
}

}  // namespace

Result<void> check_map_creatable(const MapSpec& spec, unsigned nr_cpus) {
  if (auto p = check_map_spec(spec); p.err) {
    const char* name = p.err == -kENOTSUPP ? "ENOTSUPP" : strerrorname_np(-p.err);
    return make_error(Errc::InvalidArgument,
                      std::string(name ? name : "E?") + ": " + map_type_name(spec.type) + ": " + p.reason);
  }
  if (map_memory_bytes(spec, nr_cpus) > kMaxUpfrontBytes)
    return make_error(Errc::InvalidArgument, "ENOMEM: " + map_type_name(spec.type) + ": map too large");
  if (factory_of(spec.type) == nullptr)
    return make_error(Errc::Unsupported, map_type_name(spec.type) + " is not implemented by bpfvm");
  return {};
}

Result<std::unique_ptr<Map>> create_map(const MapSpec& spec, std::shared_ptr<RunDomain> domain) {
  if (!domain) domain = std::make_shared<RunDomain>();
  if (auto ok = check_map_creatable(spec, domain->nr_cpus()); !ok) return std::move(ok).error();
  return factory_of(spec.type)(spec, std::move(domain));
}

}  // namespace bpfvm::maps
