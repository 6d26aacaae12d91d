// The maps' side of struct bpf_timer: a value's timer is kept by its owner (the VM's timer queue), which
// a map tells when the value holding it is freed or overwritten (the kernel's bpf_obj_free_fields).
#pragma once

namespace bpfvm::maps {

class Map;

/// Keeps the timers that live in map values (MapSpec::timer_off). Map::set_timer_owner names it; it
/// must outlive the map.
class TimerFieldOwner {
 public:
  virtual ~TimerFieldOwner() = default;
  /// The value holding the timer at `timer_field` was deleted, replaced or overwritten: its timer is
  /// cancelled and freed (bpf_timer_cancel_and_free). May be called for a field without a timer.
  virtual void free_timer(const void* timer_field) = 0;
  /// `map` is being destroyed: every timer in its values is cancelled and freed.
  virtual void free_map_timers(const Map& map) = 0;
};

}  // namespace bpfvm::maps
