// LpmTrieMap: the kernel's LPM trie algorithm (lpm_trie.c) with epoch-retired nodes.
#include "maps/lpm_trie_map.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>

#include "maps/value_copy.hpp"

namespace bpfvm::maps {

struct LpmTrieMap::Node {
  std::atomic<Node*> child[2] = {nullptr, nullptr};
  std::atomic<bool> intermediate{false};  // lpm_trie.c LPM_TREE_NODE_FLAG_IM: no value of its own
  std::uint32_t prefixlen = 0;
  // Followed by data_size bytes of prefix, then (8-aligned) the value.
  std::byte* data() { return reinterpret_cast<std::byte*>(this) + sizeof(Node); }
  const std::byte* data() const { return reinterpret_cast<const std::byte*>(this) + sizeof(Node); }
};

namespace {
constexpr std::uint32_t kPrefixlenBytes = 4;

std::uint32_t read_prefixlen(const void* key) {
  std::uint32_t p;
  std::memcpy(&p, key, 4);
  return p;
}

const std::byte* key_data(const void* key) { return static_cast<const std::byte*>(key) + kPrefixlenBytes; }

// lpm_trie.c extract_bit: bit `index` counted from the most significant bit of data[0].
int extract_bit(const std::byte* data, std::uint32_t index) {
  return (std::to_integer<unsigned>(data[index / 8]) >> (7 - index % 8)) & 1;
}
}  // namespace

LpmTrieMap::LpmTrieMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain)
    : Map(spec, std::move(domain)),
      data_size_(spec.key_size - kPrefixlenBytes),
      max_prefixlen_(data_size_ * 8) {
  static_assert(sizeof(Node) % 8 == 0);
  value_off_ = sizeof(Node) + percpu_value_stride(data_size_);
  node_bytes_ = value_off_ + percpu_value_stride(spec.value_size);
}

LpmTrieMap::~LpmTrieMap() = default;

std::byte* LpmTrieMap::value_of(Node* n) const { return reinterpret_cast<std::byte*>(n) + value_off_; }

// lpm_trie.c longest_prefix_match: matching leading bits, at most min(node, key) prefix lengths.
std::uint32_t LpmTrieMap::match_len(const Node* n, std::uint32_t prefixlen, const std::byte* data) const {
  const std::uint32_t limit = std::min(n->prefixlen, prefixlen);
  std::uint32_t bits = 0;
  const std::byte* nd = n->data();
  for (std::uint32_t i = 0; i < data_size_ && bits < limit; ++i) {
    const unsigned diff = std::to_integer<unsigned>(nd[i] ^ data[i]);
    if (diff) {
      bits += static_cast<std::uint32_t>(std::countl_zero(static_cast<std::uint8_t>(diff)));
      break;
    }
    bits += 8;
  }
  return std::min(bits, limit);
}

LpmTrieMap::Node* LpmTrieMap::find_longest(std::uint32_t prefixlen, const std::byte* data) const {
  Node* found = nullptr;
  for (Node* n = root_.load(std::memory_order_acquire); n;) {
    const std::uint32_t m = match_len(n, prefixlen, data);
    if (m == max_prefixlen_) {
      found = n;
      break;
    }
    if (m < n->prefixlen) break;
    if (!n->intermediate.load(std::memory_order_acquire)) found = n;
    n = n->child[extract_bit(data, n->prefixlen)].load(std::memory_order_acquire);
  }
  return found;
}

void* LpmTrieMap::lookup(const void* key) {
  const std::uint32_t prefixlen = read_prefixlen(key);
  if (prefixlen > max_prefixlen_) return nullptr;  // trie_lookup_elem
  Node* n;
  if (domain_->in_run()) {
    n = find_longest(prefixlen, key_data(key));
  } else {
    std::lock_guard lock(mu_);
    n = find_longest(prefixlen, key_data(key));
  }
  return n ? value_of(n) : nullptr;
}

LpmTrieMap::Node* LpmTrieMap::new_node(std::uint32_t prefixlen, const std::byte* data, const void* value) {
  auto storage = std::make_unique<std::uint64_t[]>(node_bytes_ / 8);
  Node* n = new (storage.get()) Node;
  n->prefixlen = prefixlen;
  std::memcpy(n->data(), data, data_size_);
  if (value) std::memcpy(value_of(n), value, spec_.value_size);
  live_.emplace(n, std::move(storage));
  std::unique_lock lock(ranges_mu_);
  value_starts_.insert(reinterpret_cast<std::uintptr_t>(value_of(n)));
  return n;
}

void LpmTrieMap::retire(Node* n) {
  auto it = live_.find(n);
  limbo_.emplace_back(domain_->retire_tag(), std::move(it->second));
  live_.erase(it);
}

void LpmTrieMap::reclaim() {
  if (limbo_.empty()) return;
  const std::uint64_t safe = domain_->safe_below();
  auto keep = std::partition(limbo_.begin(), limbo_.end(), [&](const auto& r) { return r.first >= safe; });
  if (keep == limbo_.end()) return;
  std::unique_lock lock(ranges_mu_);
  for (auto it = keep; it != limbo_.end(); ++it)
    value_starts_.erase(reinterpret_cast<std::uintptr_t>(value_of(reinterpret_cast<Node*>(it->second.get()))));
  lock.unlock();
  limbo_.erase(keep, limbo_.end());
}

// lpm_trie.c trie_update_elem, step by step.
int LpmTrieMap::update(const void* key, const void* value, std::uint64_t flags) {
  if (flags > kBpfExist) return -EINVAL;
  const std::uint32_t prefixlen = read_prefixlen(key);
  if (prefixlen > max_prefixlen_) return -EINVAL;
  const std::byte* data = key_data(key);

  std::lock_guard lock(mu_);
  reclaim();
  auto check_add = [&]() -> int {  // trie_check_add_elem
    if (flags == kBpfExist) return -ENOENT;
    if (n_entries_ == spec_.max_entries) return -ENOSPC;
    ++n_entries_;
    return 0;
  };

  std::atomic<Node*>* slot = &root_;
  Node* node = nullptr;
  std::uint32_t m = 0;
  while ((node = slot->load(std::memory_order_relaxed))) {
    m = match_len(node, prefixlen, data);
    if (node->prefixlen != m || node->prefixlen == prefixlen) break;
    slot = &node->child[extract_bit(data, node->prefixlen)];
  }

  if (!node) {  // empty slot: hang the new node there
    if (int err = check_add()) return err;
    slot->store(new_node(prefixlen, data, value), std::memory_order_release);
    return 0;
  }
  if (node->prefixlen == m) {  // same prefix: replace the node, keeping its children
    if (!node->intermediate.load(std::memory_order_relaxed)) {
      if (flags == kBpfNoexist) return -EEXIST;
    } else if (int err = check_add()) {
      return err;
    }
    Node* fresh = new_node(prefixlen, data, value);
    fresh->child[0].store(node->child[0].load(std::memory_order_relaxed), std::memory_order_relaxed);
    fresh->child[1].store(node->child[1].load(std::memory_order_relaxed), std::memory_order_relaxed);
    slot->store(fresh, std::memory_order_release);
    retire(node);
    return 0;
  }
  if (int err = check_add()) return err;
  Node* fresh = new_node(prefixlen, data, value);
  if (m == prefixlen) {  // the new prefix covers node: insert it above
    fresh->child[extract_bit(node->data(), m)].store(node, std::memory_order_relaxed);
    slot->store(fresh, std::memory_order_release);
    return 0;
  }
  // Diverging prefixes: an intermediate node of the common length takes both.
  Node* im = new_node(m, node->data(), nullptr);
  im->intermediate.store(true, std::memory_order_relaxed);
  const int bit = extract_bit(data, m);
  im->child[bit].store(fresh, std::memory_order_relaxed);
  im->child[!bit].store(node, std::memory_order_relaxed);
  slot->store(im, std::memory_order_release);
  return 0;
}

// lpm_trie.c trie_delete_elem.
int LpmTrieMap::erase(const void* key) {
  const std::uint32_t prefixlen = read_prefixlen(key);
  if (prefixlen > max_prefixlen_) return -EINVAL;
  const std::byte* data = key_data(key);

  std::lock_guard lock(mu_);
  reclaim();
  std::atomic<Node*>* trim = &root_;
  std::atomic<Node*>* trim2 = trim;
  Node* parent = nullptr;
  Node* node = nullptr;
  std::uint32_t m = 0;
  while ((node = trim->load(std::memory_order_relaxed))) {
    m = match_len(node, prefixlen, data);
    if (node->prefixlen != m || node->prefixlen == prefixlen) break;
    parent = node;
    trim2 = trim;
    trim = &node->child[extract_bit(data, node->prefixlen)];
  }
  if (!node || node->prefixlen != prefixlen || node->prefixlen != m ||
      node->intermediate.load(std::memory_order_relaxed))
    return -ENOENT;
  --n_entries_;

  Node* c0 = node->child[0].load(std::memory_order_relaxed);
  Node* c1 = node->child[1].load(std::memory_order_relaxed);
  if (c0 && c1) {  // two children: the node stays as an intermediate
    node->intermediate.store(true, std::memory_order_release);
    return 0;
  }
  if (parent && parent->intermediate.load(std::memory_order_relaxed) && !c0 && !c1) {
    // A childless node under an intermediate parent: the parent goes too, its other child moves up.
    Node* other = parent->child[0].load(std::memory_order_relaxed) == node
                      ? parent->child[1].load(std::memory_order_relaxed)
                      : parent->child[0].load(std::memory_order_relaxed);
    trim2->store(other, std::memory_order_release);
    retire(parent);
    retire(node);
    return 0;
  }
  trim->store(c0 ? c0 : c1, std::memory_order_release);
  retire(node);
  return 0;
}

// lpm_trie.c trie_get_next_key: postorder, so more specific prefixes come before their covers.
int LpmTrieMap::next_key(const void* key, void* next) {
  std::lock_guard lock(mu_);
  Node* search_root = root_.load(std::memory_order_relaxed);
  if (!search_root) return -ENOENT;
  Node* next_node = nullptr;
  bool leftmost = true;

  if (key && read_prefixlen(key) <= max_prefixlen_) {
    const std::uint32_t prefixlen = read_prefixlen(key);
    const std::byte* data = key_data(key);
    std::vector<Node*> stack;
    Node* node = search_root;
    std::uint32_t m = 0;
    while (node) {
      stack.push_back(node);
      m = match_len(node, prefixlen, data);
      if (node->prefixlen != m || node->prefixlen == prefixlen) break;
      node = node->child[extract_bit(data, node->prefixlen)].load(std::memory_order_relaxed);
    }
    if (node && node->prefixlen == m && !node->intermediate.load(std::memory_order_relaxed)) {
      leftmost = false;
      node = stack.back();
      for (std::size_t sp = stack.size() - 1; sp > 0 && !next_node && !leftmost; --sp) {
        Node* par = stack[sp - 1];
        if (par->child[0].load(std::memory_order_relaxed) == node) {
          search_root = par->child[1].load(std::memory_order_relaxed);
          if (search_root) {
            leftmost = true;
            break;
          }
        }
        if (!par->intermediate.load(std::memory_order_relaxed)) {
          next_node = par;
          break;
        }
        node = par;
      }
      if (!next_node && !leftmost) return -ENOENT;
    }
  }
  if (leftmost) {  // the leftmost non-intermediate node below search_root
    for (Node* n = search_root; n;) {
      if (n->intermediate.load(std::memory_order_relaxed)) {
        n = n->child[0].load(std::memory_order_relaxed);
      } else {
        next_node = n;
        n = n->child[0].load(std::memory_order_relaxed);
        if (!n) n = next_node->child[1].load(std::memory_order_relaxed);
      }
    }
  }
  std::memcpy(next, &next_node->prefixlen, 4);
  std::memcpy(static_cast<std::byte*>(next) + kPrefixlenBytes, next_node->data(), data_size_);
  return 0;
}

bool LpmTrieMap::owns_value(std::uintptr_t addr, std::size_t size_bytes) const {
  std::shared_lock lock(ranges_mu_);
  auto it = value_starts_.upper_bound(addr);
  if (it == value_starts_.begin()) return false;
  --it;
  const std::uintptr_t within = addr - *it;
  return size_bytes <= spec_.value_size && within <= spec_.value_size - size_bytes;
}

}  // namespace bpfvm::maps
