// MapSpec: what a map is asked to be — the kernel's BPF_MAP_CREATE attributes, with its numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bpfvm::maps {

/// The kernel's enum bpf_map_type, number for number (include/uapi/linux/bpf.h).
enum class MapType : std::uint32_t {
  Unspec = 0,
  Hash = 1,
  Array = 2,
  ProgArray = 3,
  PerfEventArray = 4,
  PercpuHash = 5,
  PercpuArray = 6,
  StackTrace = 7,
  CgroupArray = 8,
  LruHash = 9,
  LruPercpuHash = 10,
  LpmTrie = 11,
  ArrayOfMaps = 12,
  HashOfMaps = 13,
  Devmap = 14,
  Sockmap = 15,
  Cpumap = 16,
  Xskmap = 17,
  Sockhash = 18,
  CgroupStorage = 19,
  ReuseportSockarray = 20,
  PercpuCgroupStorage = 21,
  Queue = 22,
  Stack = 23,
  SkStorage = 24,
  DevmapHash = 25,
  StructOps = 26,
  Ringbuf = 27,
  InodeStorage = 28,
  TaskStorage = 29,
  BloomFilter = 30,
  UserRingbuf = 31,
  CgrpStorage = 32,
  Arena = 33,
};

/// Kernel spelling for messages and greps: "BPF_MAP_TYPE_LRU_HASH"; "BPF_MAP_TYPE_<n>" if unknown.
std::string map_type_name(MapType type);

// map_flags of BPF_MAP_CREATE (uapi enum).
inline constexpr std::uint32_t kBpfFNoPrealloc = 1u << 0;
inline constexpr std::uint32_t kBpfFNoCommonLru = 1u << 1;
inline constexpr std::uint32_t kBpfFNumaNode = 1u << 2;
inline constexpr std::uint32_t kBpfFRdonly = 1u << 3;
inline constexpr std::uint32_t kBpfFWronly = 1u << 4;
inline constexpr std::uint32_t kBpfFStackBuildId = 1u << 5;
inline constexpr std::uint32_t kBpfFZeroSeed = 1u << 6;
inline constexpr std::uint32_t kBpfFRdonlyProg = 1u << 7;
inline constexpr std::uint32_t kBpfFWronlyProg = 1u << 8;
inline constexpr std::uint32_t kBpfFClone = 1u << 9;
inline constexpr std::uint32_t kBpfFMmapable = 1u << 10;
inline constexpr std::uint32_t kBpfFPreserveElems = 1u << 11;
inline constexpr std::uint32_t kBpfFInnerMap = 1u << 12;
inline constexpr std::uint32_t kBpfFAccessMask =
    kBpfFRdonly | kBpfFRdonlyProg | kBpfFWronly | kBpfFWronlyProg;

// Element update flags (bpf_map_update_elem).
inline constexpr std::uint64_t kBpfAny = 0;
inline constexpr std::uint64_t kBpfNoexist = 1;
inline constexpr std::uint64_t kBpfExist = 2;
inline constexpr std::uint64_t kBpfFLock = 4;

// Ring buffer flags and bpf_ringbuf_query() selectors.
inline constexpr std::uint64_t kBpfRbNoWakeup = 1u << 0;
inline constexpr std::uint64_t kBpfRbForceWakeup = 1u << 1;
inline constexpr std::uint64_t kBpfRbAvailData = 0;
inline constexpr std::uint64_t kBpfRbRingSize = 1;
inline constexpr std::uint64_t kBpfRbConsPos = 2;
inline constexpr std::uint64_t kBpfRbProdPos = 3;

// bpf_perf_event_output() flags.
inline constexpr std::uint64_t kBpfFIndexMask = 0xffffffffull;
inline constexpr std::uint64_t kBpfFCurrentCpu = kBpfFIndexMask;

/// The kernel's internal ENOTSUPP (524), which bpf() really returns for some map operations.
inline constexpr int kENOTSUPP = 524;

/// BPF_MAP_CREATE attributes. numa_node and BTF ids are accepted and ignored.
struct MapSpec {
  MapType type = MapType::Unspec;
  std::uint32_t key_size = 0;
  std::uint32_t value_size = 0;
  std::uint32_t max_entries = 0;
  std::uint32_t map_flags = 0;
  std::uint64_t map_extra = 0;  ///< bloom filter: low 4 bits = number of hash functions
  std::string name;             ///< kernel rule: < 16 chars of [A-Za-z0-9_.]
  std::uint32_t numa_node = 0;  ///< ignored
  /// Offset of a struct bpf_spin_lock in the value (from BTF), or -1: needed for BPF_F_LOCK.
  std::int32_t spin_lock_off = -1;
  /// Offset of a struct bpf_timer (16 bytes) in the value (from BTF), or -1 (maps/timer_field.hpp).
  std::int32_t timer_off = -1;
  /// The map names BTF types for its key and value (btf_key_type_id and btf_value_type_id non-zero):
  /// the storage maps require it.
  bool btf_key_value = false;
  /// Map-in-map: the template every inner map must match (the kernel's inner_map_fd).
  std::shared_ptr<const MapSpec> inner;
};

/// A creation failure as the kernel reports it: negative errno plus a one-line reason.
struct SpecProblem {
  int err = 0;  ///< 0 = spec acceptable
  std::string reason;
};

/// The kernel's map_alloc_check for `spec`, without allocating. `nr_cpus` bounds per-CPU sizes.
SpecProblem check_map_spec(const MapSpec& spec);

/// Bytes create_map allocates for `spec` up front (an estimate from its sizes, without allocating):
/// what a host's cap on map memory counts. Hash maps without BPF_F_NO_PREALLOC count every element.
std::uint64_t map_memory_bytes(const MapSpec& spec, unsigned nr_cpus);

/// Bytes one value takes in a per-CPU slot: round_up(value_size, 8), as bpf() lays them out.
constexpr std::uint32_t percpu_value_stride(std::uint32_t value_size) {
  return (value_size + 7u) & ~7u;
}

/// True for the local-storage map types (sk, inode, task, cgrp storage): one value per kernel object.
constexpr bool is_local_storage(MapType t) {
  return t == MapType::SkStorage || t == MapType::InodeStorage || t == MapType::TaskStorage ||
         t == MapType::CgrpStorage;
}

/// True for the map types whose values are per CPU slot.
constexpr bool is_percpu(MapType t) {
  return t == MapType::PercpuArray || t == MapType::PercpuHash || t == MapType::LruPercpuHash ||
         t == MapType::PercpuCgroupStorage;
}

}  // namespace bpfvm::maps
