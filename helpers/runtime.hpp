// HelperRuntime (per VM) and HelperRun (per run): the host state the kernel helpers read and write.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "helpers/process_identity.hpp"

struct bpf_sock;  // <linux/bpf.h>

namespace bpfvm::maps {
class Map;
}

namespace bpfvm::helpers {

/// Clocks in nanoseconds. Defaults read CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE,
/// CLOCK_TAI; tests replace them for determinism.
struct Clocks {
  std::function<std::uint64_t()> monotonic_ns;  // bpf_ktime_get_ns
  std::function<std::uint64_t()> boot_ns;       // bpf_ktime_get_boot_ns
  std::function<std::uint64_t()> coarse_ns;     // bpf_ktime_get_coarse_ns
  std::function<std::uint64_t()> tai_ns;        // bpf_ktime_get_tai_ns
  std::function<std::uint64_t()> realtime_ns;   // CLOCK_REALTIME bpf_timers
  std::uint32_t hz = 250;                       // CONFIG_HZ for bpf_jiffies64

  static Clocks host();
};

class TimerQueue;
class TimerCallbackHost;

/// Per-VM helper state, shared by every run (each helper entry's `user` points here).
/// Configure it before the first run; runs only read it (sinks must be thread-safe if runs are).
struct HelperRuntime {
  /// The task the helpers report as current (Vm::set_current_task); nullopt: this process's.
  std::optional<TaskIdentity> task;
  Clocks clocks = Clocks::host();
  /// bpf_get_netns_cookie's cookies; nullopt: this process's.
  std::optional<NetnsCookies> netns_cookies;
  /// This process's identity: read at the first helper call that asks for it, not at VM creation.
  ProcessIdentity process;
  const TaskIdentity& current_task() const { return task ? *task : process.task(); }
  const NetnsCookies& current_netns_cookies() const { return netns_cookies ? *netns_cookies : process.netns_cookies(); }
  /// bpf_trace_printk output, one formatted message per call (the kernel's trace_pipe line body).
  /// Unset: messages are dropped (the call still returns the formatted length).
  std::function<void(std::string_view message)> trace_sink;
  /// bpf_get_prandom_u32 seed (each run mixes in its own counter); 0 = seed from the clock.
  std::uint64_t prandom_seed = 0;
  /// The bpf_timers of this VM's map values (helpers/timer_queue.hpp); copies share it.
  std::shared_ptr<TimerQueue> timers;
  HelperRuntime();
};


/// Where a redirect helper asked the packet to go (the kernel's bpf_redirect_info).
struct RedirectRecord {
  /// The kernel's internal bpf_redirect_info flags (filter.c) bpf_redirect_neigh and
  /// bpf_redirect_peer record in `flags`: a neighbour redirect (with a next hop), a peer redirect.
  static constexpr std::uint64_t kNeigh = 1ULL << 16, kPeer = 1ULL << 17, kNextHop = 1ULL << 18;
  bool set = false;
  std::uint32_t ifindex = 0;     // bpf_redirect target; bpf_redirect_map: the devmap entry's device (else 0)
  std::uint64_t flags = 0;       // BPF_F_INGRESS, bpf_redirect_map's BPF_F_BROADCAST..., or kNeigh/kPeer/kNextHop
  const maps::Map* map = nullptr;  // bpf_redirect_map: the map (devmap, devmap_hash, cpumap, xskmap)
  std::uint32_t key = 0;           // bpf_redirect_map: the entry's key (the CPU for a cpumap)
};

/// The tunnel metadata bpf_skb_set_tunnel_key attaches to a run's skb (the kernel's per-CPU metadata
/// dst's struct ip_tunnel_info, as the tunnel helpers read it back): key fields in network order, the
/// kernel's IP_TUNNEL_*_BIT flags (bit i = the UAPI TUNNEL_* flag 1 << i), the options set by
/// bpf_skb_set_tunnel_opt.
struct TunnelInfo {
  bool ipv6 = false;
  std::uint64_t tun_id_be = 0;
  std::uint8_t tos = 0, ttl = 0;
  std::uint32_t flags = 0;
  std::uint8_t src[16] = {}, dst[16] = {};
  std::uint32_t label_be = 0;
  std::uint8_t options_len = 0;
  std::uint8_t options[255] = {};
};

/// cgroup_sysctl: the sysctl a run's program is asked about (the kernel's struct bpf_sysctl_kern as
/// __cgroup_bpf_run_filter_sysctl builds it), read and changed by helpers/sysctl_helpers.cpp.
struct SysctlRun {
  std::string name;  ///< the path under /proc/sys, '/'-separated ("kernel/ostype")
  std::vector<std::uint8_t> current_value;  ///< what reading the sysctl gives (empty: the read failed)
  std::vector<std::uint8_t> new_value;  ///< a write's value (empty: no value, new_val NULL)
  bool new_updated = false;  ///< bpf_sysctl_set_new_value replaced new_value
};

struct XdpCtx;
struct SkbCtx;
struct MsgCtx;
struct SkLookupCtx;
struct ReuseportCtx;

/// Per-run helper state; RunContext::host points to one (helpers tolerate nullptr where they can).
struct HelperRun {
  /// "CPU" reported by bpf_get_smp_processor_id (maps::RunGuard::cpu() when runs hold one).
  std::uint32_t cpu = 0;
  RedirectRecord redirect;
  /// The packet context of this run (set by test_run or the embedder) and the index of its packet
  /// Region in RunContext::regions (adjust helpers move it); -1 = none.
  XdpCtx* xdp = nullptr;
  SkbCtx* skb = nullptr;
  MsgCtx* msg = nullptr;  // sk_msg: the message (packet_region covers its data..data_end window)
  SkLookupCtx* sk_lookup = nullptr;  // sk_lookup: the context bpf_sk_assign selects into
  ReuseportCtx* reuseport = nullptr;  // sk_reuseport: the context bpf_sk_select_reuseport selects into
  int packet_region = -1;
  /// bpf_get_prandom_u32 state (0 = not seeded yet).
  std::uint64_t prandom_state = 0;
  /// The embedder's own per-run pointer.
  void* embedder = nullptr;
  /// The program this run belongs to, which runs the callbacks bpf_timer_set_callback keeps (null:
  /// the run cannot keep one and the helper stops it "not supported yet").
  const TimerCallbackHost* timer_host = nullptr;
  /// The sockets this run's bpf_map_lookup_elem found in a SOCKMAP/SOCKHASH (each once): the socket
  /// helpers take them as they take the skb's socket.
  std::vector<const bpf_sock*> map_sockets;
  /// Local storage on the run's own socket (the skb's: it lives as long as this run state, as the
  /// kernel's test-run socket lives for one BPF_PROG_TEST_RUN, and no fd names it), one value per
  /// storage map (helpers/storage_helpers.cpp); freed with this state.
  struct SocketStorage {
    const maps::Map* map = nullptr;
    bool present = false;
    std::unique_ptr<std::uint64_t[]> value;  // the map's value_size bytes
  };
  std::vector<SocketStorage> socket_storage;
  /// bpf_get_local_storage's cgroup storage, one zeroed value per CGROUP_STORAGE / PERCPU_CGROUP_STORAGE map
  /// (always present): the kernel's BPF_PROG_TEST_RUN allocates fresh storages for each run.
  std::vector<SocketStorage> cgroup_storage;
  /// The cookie of the run's own socket (the skb's), drawn on the first bpf_get_socket_cookie from a
  /// process-wide counter: one per test run, as the kernel's test-run socket is new each time (0: none yet).
  std::uint64_t socket_cookie = 0;
  /// The skb's tunnel metadata once bpf_skb_set_tunnel_key set it (helpers/tunnel_helpers.cpp).
  std::unique_ptr<TunnelInfo> tunnel;
  /// cgroup hooks: the run context's retval (bpf_get_retval / bpf_set_retval), 0 at the start as
  /// bpf_prog_run_array_cg starts it for the hooks bpfvm runs. getsockopt: the context's own retval
  /// field is that value (the kernel converts its loads and stores to the run context's retval), and
  /// `cgroup_retval_field` points at it.
  std::int32_t cgroup_retval = 0;
  void* cgroup_retval_field = nullptr;
  /// The calling thread's cgroup v2 ids as a cgroup helper last read them (ProcessIdentity::cgroup_ids),
  /// the "0::" path they were read for and when (CLOCK_MONOTONIC_COARSE; 0: not yet). Kept from run to
  /// run (a thread's RunState, a Runner), re-read once older than ProcessIdentity::kCgroupRereadNs.
  std::vector<std::uint64_t> cgroup_ids;
  std::string cgroup_path;
  std::uint64_t cgroup_read_ns = 0;
  /// cgroup_sysctl: the sysctl this run is for (null: RunInput gave none; its helpers stop the run).
  SysctlRun* sysctl = nullptr;
};

}  // namespace bpfvm::helpers
