// Socket-local storage helpers: bpf_sk_storage_get / bpf_sk_storage_delete (net/core/bpf_sk_storage.c),
// and bpf_get_local_storage (cgroup storage, kernel/bpf/helpers.c), whose value lives as long as the run.
// on the sockets a run can point to (socket_helpers.cpp's run_socket): a socket a SOCKMAP/SOCKHASH
// lookup returned is a host socket, whose value lives in the maps::LocalStorageMap under its SO_COOKIE,
// where the host reads it by the socket's fd; the skb's own socket lives only as long as the run state
// (the kernel's test-run socket is freed after BPF_PROG_TEST_RUN), so its values live in
// HelperRun::socket_storage and go with it.
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "helpers/contexts.hpp"
#include "helpers/guest_memory.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/local_storage_map.hpp"
#include "maps/sock_map.hpp"
#include "maps/value_copy.hpp"

namespace bpfvm::helpers::detail {
namespace {

using vm::ArgType;
using vm::RetType;

// The socket a storage helper names: the run's own (the skb's) or a host socket known by its cookie.
struct StorageSocket {
  const bpf_sock* sock = nullptr;  // null: the run stopped
  bool own = false;
  std::uint64_t cookie = 0;
};

StorageSocket storage_socket(vm::RunContext* run, std::uint64_t sk, const char* helper) {
  const bpf_sock* sock = run_socket(run, sk, helper);
  if (sock == nullptr) return {};
  const HelperRun* s = run_state(run);
  if (s->skb != nullptr && sock == &s->skb->socket.sock) return {sock, true, 0};
  // run_socket's other sockets are sockmap lookups' maps::ProgramSocket, whose first member is the sock.
  const std::uint64_t cookie = reinterpret_cast<const maps::ProgramSocket*>(sock)->cookie;
  if (cookie == 0) {
    fault(run, std::string(helper) + " on a sockmap socket without a cookie (one a program added) is not supported yet");
    return {};
  }
  return {sock, false, cookie};
}

// The run's value for `map` in `all` (socket or cgroup storage), created zeroed and not present on first
// use; its memory is kept for the run.
HelperRun::SocketStorage& own_storage(vm::RunContext* run, std::vector<HelperRun::SocketStorage>& all,
                                      const maps::Map& map, const char* what) {
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& e) { return e.map == &map; });
  if (it != all.end()) return *it;
  HelperRun::SocketStorage& e = all.emplace_back();
  e.map = &map;
  e.value = std::make_unique<std::uint64_t[]>((map.spec().value_size + 7) / 8);
  run->regions.push_back(vm::Region{reinterpret_cast<std::uintptr_t>(e.value.get()), map.spec().value_size, true,
                                    what});
  return e;
}

// bpf_sk_storage_get: NULL for a socket that is not full or flags other than 0 and
// BPF_SK_STORAGE_GET_F_CREATE; the socket's value; else with F_CREATE a new one from `value` (or zeroes).
std::uint64_t sk_storage_get(std::uint64_t m, std::uint64_t sk, std::uint64_t value, std::uint64_t flags,
                             std::uint64_t, vm::RunContext* run) {
  const char* name = "bpf_sk_storage_get";
  auto& map = *reinterpret_cast<maps::LocalStorageMap*>(static_cast<std::uintptr_t>(m));
  const std::uint32_t size = map.spec().value_size;
  const StorageSocket socket = storage_socket(run, sk, name);
  if (socket.sock == nullptr) return 0;
  if (!is_full_socket(*socket.sock) || flags > BPF_SK_STORAGE_GET_F_CREATE) return 0;
  const bool create = flags == BPF_SK_STORAGE_GET_F_CREATE;
  if (create && value != 0 && !guest_ok(run, value, size, false, name)) return 0;
  const void* init = create && value != 0 ? ptr(value) : nullptr;
  if (!socket.own)
    return reinterpret_cast<std::uintptr_t>(map.storage_get({0, socket.cookie}, init, create));
  HelperRun::SocketStorage& e = own_storage(run, run_state(run)->socket_storage, map, "socket storage");
  if (!e.present && create) {
    maps::zero_value(e.value.get(), size);
    if (init != nullptr) maps::store_value_skip_lock(e.value.get(), init, size, map.spec().spin_lock_off);
    e.present = true;
  }
  return e.present ? reinterpret_cast<std::uintptr_t>(e.value.get()) : 0;
}

// bpf_sk_storage_delete: -EINVAL for a socket that is not full, -ENOENT without a value, else 0.
std::uint64_t sk_storage_delete(std::uint64_t m, std::uint64_t sk, std::uint64_t, std::uint64_t, std::uint64_t,
                                vm::RunContext* run) {
  auto& map = *reinterpret_cast<maps::LocalStorageMap*>(static_cast<std::uintptr_t>(m));
  const StorageSocket socket = storage_socket(run, sk, "bpf_sk_storage_delete");
  if (socket.sock == nullptr) return 0;
  if (!is_full_socket(*socket.sock)) return ret(-EINVAL);
  if (!socket.own) return ret(map.storage_delete({0, socket.cookie}));
  HelperRun::SocketStorage& e = own_storage(run, run_state(run)->socket_storage, map, "socket storage");
  if (!e.present) return ret(-ENOENT);
  e.present = false;  // the memory stays: a pointer the program still holds reads it, as the kernel's RCU copy
  return 0;
}

// bpf_get_local_storage(map, flags): the storage of the cgroup the program runs for, never NULL (the
// verifier has made flags 0). A run is the kernel's test run, whose storages are allocated zeroed for it
// (bpf_cgroup_storages_alloc), so the value lives as long as the run; a per-CPU map's is this CPU's copy.
std::uint64_t get_local_storage(std::uint64_t m, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                vm::RunContext* run) {
  const auto& map = *reinterpret_cast<const maps::Map*>(static_cast<std::uintptr_t>(m));
  HelperRun::SocketStorage& e = own_storage(run, run_state(run)->cgroup_storage, map, "cgroup storage");
  e.present = true;
  return reinterpret_cast<std::uintptr_t>(e.value.get());
}

}  // namespace

void add_storage_helpers(vm::HelperRegistry& reg, HelperRuntime& rt) {
  reg.add(entry(BPF_FUNC_sk_storage_get, "bpf_sk_storage_get", sk_storage_get, rt, RetType::PtrToMapValueOrNull,
                {ArgType::ConstMapPtr, ArgType::PtrToBtfIdSockCommon, ArgType::PtrToMapValueOrNull, ArgType::Anything}));
  reg.add(entry(BPF_FUNC_sk_storage_delete, "bpf_sk_storage_delete", sk_storage_delete, rt, RetType::Integer,
                {ArgType::ConstMapPtr, ArgType::PtrToBtfIdSockCommon}));
  reg.add(entry(BPF_FUNC_get_local_storage, "bpf_get_local_storage", get_local_storage, rt, RetType::PtrToMapValue,
                {ArgType::ConstMapPtr, ArgType::Anything}));
}

}  // namespace bpfvm::helpers::detail
