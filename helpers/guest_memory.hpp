// Internal to helpers/: reaching the runtime from a helper, checking and copying program memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>

#include "helpers/runtime.hpp"
#include "vm/helper_registry.hpp"
#include "bpfvm/helper_signature.hpp"
#include "vm/run_context.hpp"

struct bpf_sock;
namespace bpfvm::maps {
class Map;
}

namespace bpfvm::helpers::detail {

inline HelperRuntime& runtime_of(vm::RunContext* run) {
  return *static_cast<HelperRuntime*>(run->current_helper->user);
}
inline HelperRun* run_state(vm::RunContext* run) { return static_cast<HelperRun*>(run->host); }
inline bool checked(vm::RunContext* run) { return run->checked; }

/// A helper's result (a count, or a negative errno) as r0: sign-extended to 64 bits.
inline std::uint64_t ret(long v) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(v)); }

/// Stops the run with a HelperFault ("<helper>: why"); returns 0 so callers can `return fault(...)`.
inline std::uint64_t fault(vm::RunContext* run, std::string why) {
  run->helper_fault = std::move(why);
  return 0;
}

/// "0x1f": addresses in fault messages.
std::string hex(std::uint64_t v);

/// Memory the verifier vouches for (ARG_PTR_TO_MEM and friends). Checked mode: it must lie in an
/// allowed region, or the run stops (the verifier would have refused the program). size 0 is fine.
inline bool guest_ok(vm::RunContext* run, std::uint64_t addr, std::uint64_t size, bool write, const char* what) {
  if (!checked(run) || size == 0) return true;
  if (run->allowed(static_cast<std::uintptr_t>(addr), static_cast<std::size_t>(size), write)) return true;
  fault(run, std::string(what) + ": " + std::to_string(size) + "-byte " + (write ? "write" : "read") +
                 " at " + hex(addr) + " outside the program's memory");
  return false;
}

/// After a helper moved the packet: the run's packet Region (HelperRun::packet_region, when there is
/// one) becomes [begin, begin + size_bytes), so checked runs follow it.
inline void move_packet_region(vm::RunContext* run, std::uint64_t begin, std::uint64_t size_bytes) {
  const HelperRun* s = run_state(run);
  if (s == nullptr || s->packet_region < 0 || static_cast<std::size_t>(s->packet_region) >= run->regions.size()) return;
  auto& r = run->regions[static_cast<std::size_t>(s->packet_region)];
  r.begin = static_cast<std::uintptr_t>(begin);
  r.size_bytes = static_cast<std::size_t>(size_bytes);
}

inline std::byte* ptr(std::uint64_t addr) { return reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(addr)); }

/// probe_read semantics: copy n bytes from an arbitrary address without crashing. Unchecked runs read
/// any mapped host memory (process_vm_readv on ourselves); checked runs only allowed regions.
/// Returns false on a fault (nothing or part copied).
bool probe_copy(vm::RunContext* run, void* dst, std::uint64_t src, std::size_t n);
/// strncpy_from_*_nofault: copies up to n-1 bytes and a NUL; returns the length including the NUL,
/// or -EFAULT (dst[0] = 0). n must be > 0.
long probe_copy_str(vm::RunContext* run, char* dst, std::uint64_t src, std::size_t n);

/// Helper entry builder used by every family.
inline vm::HelperEntry entry(std::uint32_t id, const char* name, vm::HelperFn fn, HelperRuntime& rt,
                             vm::RetType ret, std::initializer_list<vm::ArgType> args) {
  vm::HelperEntry e;
  e.id = id;
  e.name = name;
  e.fn = fn;
  e.user = &rt;
  e.signature.ret = ret;
  e.signature.args.fill(vm::ArgType::DontCare);
  std::size_t i = 0;
  for (auto a : args) e.signature.args[i++] = a;
  e.signature.known = true;
  return e;
}

// One registration function per helper family (each in its own <family>_helpers.cpp).
void add_map_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_time_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_timer_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_task_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_probe_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_print_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_string_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_packet_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_xdp_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_ringbuf_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_program_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_user_ringbuf_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_dynptr_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_socket_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_sockmap_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
/// bpf_map_lookup_elem / bpf_map_update_elem on a SOCKMAP or SOCKHASH (sockmap_helpers.cpp): the value
/// is a socket, not bytes.
std::uint64_t sockmap_lookup_elem(vm::RunContext* run, maps::Map& map, std::uint64_t key);
std::uint64_t sockmap_update_elem(vm::RunContext* run, maps::Map& map, std::uint64_t key, std::uint64_t sk,
                                  std::uint64_t flags);
/// The run's socket `sk` points to (socket_helpers.cpp: the skb's, or one this run's sockmap lookup
/// returned), else nullptr with the run stopped "<helper> on a socket other than ... is not supported yet".
const bpf_sock* run_socket(vm::RunContext* run, std::uint64_t sk, const char* helper);
/// The kernel's sk_fullsock(): request and timewait sockets are not full sockets.
bool is_full_socket(const bpf_sock& sk);
void add_msg_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_storage_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_skb_state_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_skb_socket_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_vlan_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_tunnel_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_signal_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_cgroup_retval_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_netns_cookie_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_sysctl_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);
/// Every other kernel helper (helper_catalog.cpp): registered first, the families replace their ids.
void add_catalog_helpers(vm::HelperRegistry& reg, HelperRuntime& rt);

}  // namespace bpfvm::helpers::detail
