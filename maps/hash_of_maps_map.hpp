// HashOfMapsMap: BPF_MAP_TYPE_HASH_OF_MAPS — a hash map whose values are inner maps.
#pragma once

#include <memory>

#include "maps/hash_map.hpp"
#include "maps/map_in_map.hpp"

namespace bpfvm::maps {

/// A HashMap of Map* values underneath (so the same locking and reclamation); programs get the inner
/// Map*, bpf() lookups the inner id. Inner maps are not owned (the MapTable keeps them).
class HashOfMapsMap final : public Map {
 public:
  HashOfMapsMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  void set_resolver(MapResolver resolver) { resolver_ = std::move(resolver); }
  /// Direct host store after the ABI check, with the hash update flags.
  int set_inner(const void* key, Map* inner, std::uint64_t flags);

  void* lookup(const void* key) override;
  int erase(const void* key) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;
  int next_key(const void* key, void* next) override;

 private:
  std::unique_ptr<HashMap> table_;
  MapResolver resolver_;
};

}  // namespace bpfvm::maps
