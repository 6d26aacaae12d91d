// QueueStackMap: BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO), as kernel/bpf/queue_stack_maps.c.
#pragma once

#include <memory>
#include <mutex>

#include "maps/map.hpp"
#include "maps/zeroed_block.hpp"

namespace bpfvm::maps {

/// A ring of max_entries + 1 value slots under one lock (the kernel's design too). Values are always
/// copied in and out, so programs never hold pointers into it. bpf() update pushes, lookup peeks,
/// lookup_and_delete pops; BPF_EXIST on a full map overwrites the oldest element.
class QueueStackMap final : public Map {
 public:
  QueueStackMap(const MapSpec& spec, std::shared_ptr<RunDomain> domain);

  int update(const void* key, const void* value, std::uint64_t flags) override;
  int erase(const void* key) override;
  int push(const void* value, std::uint64_t flags) override;
  int pop(void* value) override;
  int peek(void* value) override;

 protected:
  int copy_value(const void* key, void* out, std::uint64_t flags) override;
  int update_from_host(const void* key, const void* value, std::uint64_t flags) override;

 private:
  int take(void* value, bool remove);
  std::byte* slot(std::uint32_t i) { return storage_.get() + std::size_t{i} * spec_.value_size; }

  const bool stack_;
  const std::uint32_t size_;  // max_entries + 1
  std::mutex mu_;
  std::uint32_t head_ = 0;  // next slot to write
  std::uint32_t tail_ = 0;  // oldest element
  ZeroedBlock storage_;  // max_entries + 1 values; untouched pages use no memory
};

}  // namespace bpfvm::maps
