// LpmTrieMap: BPF_MAP_TYPE_LPM_TRIE — longest-prefix match over keys of u32 prefixlen + data bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <set>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "maps/map.hpp"

namespace bpfvm::maps {

/// The kernel's path-compressed binary trie (kernel/bpf/lpm_trie.c): intermediate nodes hold no
/// value; more specific prefixes sit below less specific ones. Writers serialize on one mutex and
/// publish nodes with release stores; lookups from a thread inside a RunGuard walk without a lock.
/// Replaced and removed nodes are retired under a RunDomain epoch and freed after the grace period.
/// Full map: -ENOSPC (as the kernel). get_next_key walks in postorder (more specific keys first).
class LpmTrieMap final : public Map {
 public:
  LpmTrieMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);
  ~LpmTrieMap() override;

  void* lookup(const void* key) override;
  int update(const void* key, const void* value, std::uint64_t flags) override;
  int erase(const void* key) override;

 protected:
  int next_key(const void* key, void* next) override;
  bool owns_value(std::uintptr_t addr, std::size_t size_bytes) const override;

 private:
  struct Node;
  Node* new_node(std::uint32_t prefixlen, const std::byte* data, const void* value);  // mu_ held
  void retire(Node* n);                                                              // mu_ held
  void reclaim();                                                                    // mu_ held
  std::byte* value_of(Node* n) const;
  std::uint32_t match_len(const Node* n, std::uint32_t prefixlen, const std::byte* data) const;
  Node* find_longest(std::uint32_t prefixlen, const std::byte* data) const;

  const std::uint32_t data_size_;
  const std::uint32_t max_prefixlen_;
  std::size_t node_bytes_ = 0;
  std::size_t value_off_ = 0;
  std::atomic<Node*> root_{nullptr};
  std::uint32_t n_entries_ = 0;  // mu_

  std::mutex mu_;
  std::unordered_map<Node*, std::unique_ptr<std::uint64_t[]>> live_;                 // mu_
  std::vector<std::pair<std::uint64_t, std::unique_ptr<std::uint64_t[]>>> limbo_;  // mu_
  mutable std::shared_mutex ranges_mu_;
  std::set<std::uintptr_t> value_starts_;  // where each allocated node's value starts
};

}  // namespace bpfvm::maps
