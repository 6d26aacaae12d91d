// Section names map to program types and attach types as in libbpf's table.
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include "loader/section_names.hpp"

using namespace bpfvm::loader;

TEST_CASE("find_section_def follows libbpf's matching rules") {
  struct Case { const char* sec; std::uint32_t type; std::uint32_t attach; std::uint32_t flags; };
  const Case cases[] = {
      {"xdp", BPF_PROG_TYPE_XDP, BPF_XDP, 0},
      {"xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, BPF_F_XDP_HAS_FRAGS},
      {"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 0},
      {"tc", BPF_PROG_TYPE_SCHED_CLS, 0, 0},
      {"classifier", BPF_PROG_TYPE_SCHED_CLS, 0, 0},
      {"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0},
      {"kprobe/do_unlinkat", BPF_PROG_TYPE_KPROBE, 0, 0},
      {"kretprobe/do_unlinkat", BPF_PROG_TYPE_KPROBE, 0, 0},
      {"uprobe.s/lib:fn", BPF_PROG_TYPE_KPROBE, 0, BPF_F_SLEEPABLE},
      {"tracepoint/syscalls/sys_enter_openat", BPF_PROG_TYPE_TRACEPOINT, 0, 0},
      {"tp/sched/sched_switch", BPF_PROG_TYPE_TRACEPOINT, 0, 0},
      {"raw_tp/sys_enter", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0},
      {"fentry/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, 0},
      {"fexit/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, 0},
      {"fentry.s/x", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, BPF_F_SLEEPABLE},
      {"lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 0},
      {"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 0},
      {"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, 0},
      {"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, 0},
      {"syscall", BPF_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE},
      {"sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER, 0},
      {"iter/task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, 0},
  };
  for (const auto& c : cases) {
    INFO(c.sec);
    const auto def = find_section_def(c.sec);
    REQUIRE(def);
    CHECK(def->prog_type == c.type);
    CHECK(def->expected_attach_type == c.attach);
    CHECK(def->prog_flags == c.flags);
  }
}

TEST_CASE("find_section_def refuses near misses") {
  for (const char* sec : {"xdpfoo", "kprobex", "tc/ingress", "socket1", "", "fentry_x", "cgroup/unknown"}) {
    INFO(sec);
    CHECK_FALSE(find_section_def(sec));
  }
  CHECK(prog_type_name(BPF_PROG_TYPE_XDP) == "xdp");
  CHECK(prog_type_name(9999) == "unspec");
}
