// The section-name table, transcribed from the libbpf 1.x documentation of SEC() names.
#include "loader/section_names.hpp"

#include <linux/bpf.h>

#include <array>
#include <initializer_list>
#include <span>

namespace bpfvm::loader {

namespace {

struct Row {
  std::string_view sec;
  bpf_prog_type type;
  std::uint32_t attach;
  std::uint32_t flags;
  bool attach_btf;
};

constexpr std::uint32_t kSleep = BPF_F_SLEEPABLE, kFrags = BPF_F_XDP_HAS_FRAGS;

// Order matters: the first match wins, so longer names precede their prefixes (as in libbpf).
constexpr std::array kRows = {
    Row{"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, false},
    Row{"sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, 0, false},
    Row{"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, 0, false},
    Row{"kprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"uprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"uprobe.s+", BPF_PROG_TYPE_KPROBE, 0, kSleep, false},
    Row{"kretprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"uretprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"uretprobe.s+", BPF_PROG_TYPE_KPROBE, 0, kSleep, false},
    Row{"kprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0, false},
    Row{"kretprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0, false},
    Row{"ksyscall+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"kretsyscall+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"usdt+", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"tc", BPF_PROG_TYPE_SCHED_CLS, 0, 0, false},
    Row{"classifier", BPF_PROG_TYPE_SCHED_CLS, 0, 0, false},
    Row{"action", BPF_PROG_TYPE_SCHED_ACT, 0, 0, false},
    Row{"tracepoint+", BPF_PROG_TYPE_TRACEPOINT, 0, 0, false},
    Row{"tp+", BPF_PROG_TYPE_TRACEPOINT, 0, 0, false},
    Row{"raw_tracepoint+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, false},
    Row{"raw_tp+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, false},
    Row{"raw_tracepoint.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0, false},
    Row{"raw_tp.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, 0, false},
    Row{"tp_btf+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 0, true},
    Row{"fentry+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, 0, true},
    Row{"fmod_ret+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, 0, true},
    Row{"fexit+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, 0, true},
    Row{"fentry.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, kSleep, true},
    Row{"fmod_ret.s+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, kSleep, true},
    Row{"fexit.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, kSleep, true},
    Row{"freplace+", BPF_PROG_TYPE_EXT, 0, 0, true},
    Row{"lsm+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 0, true},
    Row{"lsm.s+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, kSleep, true},
    Row{"lsm_cgroup+", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, 0, true},
    Row{"iter+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, 0, true},
    Row{"iter.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, kSleep, true},
    Row{"syscall", BPF_PROG_TYPE_SYSCALL, 0, kSleep, false},
    Row{"xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, kFrags, false},
    Row{"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 0, false},
    Row{"xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, kFrags, false},
    Row{"xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, 0, false},
    Row{"xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, kFrags, false},
    Row{"xdp", BPF_PROG_TYPE_XDP, BPF_XDP, 0, false},
    Row{"struct_ops+", BPF_PROG_TYPE_STRUCT_OPS, 0, 0, false},
    Row{"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, 0, false},
};

// Names libbpf 1.x and the older loaders both know: matched whole after kRows, as prefixes beside
// kLegacyRows.
constexpr std::array kSharedRows = {
    Row{"perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, 0, false},
    Row{"lwt_in", BPF_PROG_TYPE_LWT_IN, 0, 0, false},
    Row{"lwt_out", BPF_PROG_TYPE_LWT_OUT, 0, 0, false},
    Row{"lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, 0, false},
    Row{"lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, 0, false},
    Row{"sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, 0, false},
    Row{"sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, 0, false},
    Row{"sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT, 0, false},
    Row{"sk_skb", BPF_PROG_TYPE_SK_SKB, 0, 0, false},
    Row{"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, 0, false},
    Row{"lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2, 0, false},
    Row{"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, 0, false},
    Row{"cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 0, false},
    Row{"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, 0, false},
    Row{"cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0, 0, false},
    Row{"cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0, false},
    Row{"cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, 0, false},
    Row{"cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0, false},
    Row{"cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, 0, false},
    Row{"cgroup/post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, 0, false},
    Row{"cgroup/bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, 0, false},
    Row{"cgroup/bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, 0, false},
    Row{"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 0, false},
    Row{"cgroup/connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, 0, false},
    Row{"cgroup/sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, 0, false},
    Row{"cgroup/sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, 0, false},
    Row{"cgroup/recvmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG, 0, false},
    Row{"cgroup/recvmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG, 0, false},
    Row{"cgroup/getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME, 0, false},
    Row{"cgroup/getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME, 0, false},
    Row{"cgroup/getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME, 0, false},
    Row{"cgroup/getsockname6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME, 0, false},
    Row{"cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, 0, false},
    Row{"cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT, 0, false},
    Row{"cgroup/setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, 0, false},
    Row{"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, 0, false},
};

// Prefixes of libbpf 0.x's section_defs (matched with strncmp) and of samples/bpf's bpf_load.c, which
// accepted any name that starts with one of them. The longest matching prefix wins.
constexpr std::array kLegacyRows = {
    Row{"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, false},
    Row{"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, 0, false},
    Row{"kprobe/", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"uprobe/", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"kretprobe/", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"uretprobe/", BPF_PROG_TYPE_KPROBE, 0, 0, false},
    Row{"classifier", BPF_PROG_TYPE_SCHED_CLS, 0, 0, false},
    Row{"tc", BPF_PROG_TYPE_SCHED_CLS, 0, 0, false},  // libbpf 0.x's "tc" by strncmp: tc_mark, tc-ingress
    Row{"action", BPF_PROG_TYPE_SCHED_ACT, 0, 0, false},
    Row{"tracepoint/", BPF_PROG_TYPE_TRACEPOINT, 0, 0, false},
    Row{"tp/", BPF_PROG_TYPE_TRACEPOINT, 0, 0, false},
    Row{"raw_tracepoint/", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, false},
    Row{"raw_tp/", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, false},
    Row{"xdp_devmap/", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 0, false},
    Row{"xdp_cpumap/", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, 0, false},
    Row{"xdp", BPF_PROG_TYPE_XDP, 0, 0, false},
};

bool matches(std::string_view def, std::string_view sec) {
  if (def.ends_with('/')) return sec.starts_with(def);
  if (def.ends_with('+')) {
    def.remove_suffix(1);
    if (!sec.starts_with(def)) return false;
    return sec.size() == def.size() || sec[def.size()] == '/';
  }
  return sec == def;
}

}  // namespace

std::optional<SectionDef> find_section_def(std::string_view section) {
  for (const auto& table : {std::span<const Row>(kRows), std::span<const Row>(kSharedRows)})
    for (const auto& row : table)
      if (matches(row.sec, section))
        return SectionDef{row.sec, static_cast<std::uint32_t>(row.type), row.attach, row.flags, row.attach_btf};
  return std::nullopt;
}

std::optional<SectionDef> find_legacy_section_def(std::string_view section) {
  const Row* best = nullptr;
  for (const auto& table : {std::span<const Row>(kLegacyRows), std::span<const Row>(kSharedRows)})
    for (const auto& row : table)
      if (section.starts_with(row.sec) && (!best || row.sec.size() > best->sec.size())) best = &row;
  if (!best) return std::nullopt;
  return SectionDef{best->sec, static_cast<std::uint32_t>(best->type), best->attach, best->flags, false, true};
}

std::optional<SectionDef> find_program_section_def(std::string_view section) {
  if (auto def = find_section_def(section)) return def;
  return find_legacy_section_def(section);
}

std::string_view prog_type_name(std::uint32_t prog_type) {
  switch (prog_type) {
    case BPF_PROG_TYPE_SOCKET_FILTER: return "socket_filter";
    case BPF_PROG_TYPE_KPROBE: return "kprobe";
    case BPF_PROG_TYPE_SCHED_CLS: return "sched_cls";
    case BPF_PROG_TYPE_SCHED_ACT: return "sched_act";
    case BPF_PROG_TYPE_TRACEPOINT: return "tracepoint";
    case BPF_PROG_TYPE_XDP: return "xdp";
    case BPF_PROG_TYPE_PERF_EVENT: return "perf_event";
    case BPF_PROG_TYPE_CGROUP_SKB: return "cgroup_skb";
    case BPF_PROG_TYPE_CGROUP_SOCK: return "cgroup_sock";
    case BPF_PROG_TYPE_LWT_IN: return "lwt_in";
    case BPF_PROG_TYPE_LWT_OUT: return "lwt_out";
    case BPF_PROG_TYPE_LWT_XMIT: return "lwt_xmit";
    case BPF_PROG_TYPE_SOCK_OPS: return "sock_ops";
    case BPF_PROG_TYPE_SK_SKB: return "sk_skb";
    case BPF_PROG_TYPE_CGROUP_DEVICE: return "cgroup_device";
    case BPF_PROG_TYPE_SK_MSG: return "sk_msg";
    case BPF_PROG_TYPE_RAW_TRACEPOINT: return "raw_tracepoint";
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return "cgroup_sock_addr";
    case BPF_PROG_TYPE_LWT_SEG6LOCAL: return "lwt_seg6local";
    case BPF_PROG_TYPE_LIRC_MODE2: return "lirc_mode2";
    case BPF_PROG_TYPE_SK_REUSEPORT: return "sk_reuseport";
    case BPF_PROG_TYPE_FLOW_DISSECTOR: return "flow_dissector";
    case BPF_PROG_TYPE_CGROUP_SYSCTL: return "cgroup_sysctl";
    case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: return "raw_tracepoint_writable";
    case BPF_PROG_TYPE_CGROUP_SOCKOPT: return "cgroup_sockopt";
    case BPF_PROG_TYPE_TRACING: return "tracing";
    case BPF_PROG_TYPE_STRUCT_OPS: return "struct_ops";
    case BPF_PROG_TYPE_EXT: return "ext";
    case BPF_PROG_TYPE_LSM: return "lsm";
    case BPF_PROG_TYPE_SK_LOOKUP: return "sk_lookup";
    case BPF_PROG_TYPE_SYSCALL: return "syscall";
    default: return "unspec";
  }
}

}  // namespace bpfvm::loader
