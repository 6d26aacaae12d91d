// Context access rules against the running kernel: for each program type (and expected attach type
// where the kernel's *_is_valid_access depends on it), every offset of the context (and just outside
// it) is probed with a load, a register store and an immediate store of each width, and with exits of
// r0 = -1..4 for the return-code rule. BPF_PROG_LOAD's verdict must equal bpfvm's verifier's, except
// for the listed known differences (a field bpfvm does not model yet).
#include <linux/bpf.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "helpers/kernel_helpers.hpp"
#include "tests/kernel/insn_builder.hpp"
#include "tests/kernel/kernel_oracle.hpp"
#include "verifier/verifier.hpp"

using namespace bpfvm;
using testing::insn;
using isa::Operand;

namespace {

struct TypeCase {
  const char* label;
  bpf_prog_type type;
  std::uint32_t expected_attach_type;
  verifier::ProgramTypeInfo info;
};

// An access bpfvm refuses where the kernel accepts it, because the field's value is a kind of pointer
// the verifier does not model yet; the range is [offset, offset + size_bytes).
struct KnownDifference {
  bpf_prog_type type;
  std::uint32_t offset, size_bytes;
  const char* reason;
};
constexpr KnownDifference kKnownDifferences[] = {
    {BPF_PROG_TYPE_UNSPEC, 0, 0, "none at the moment: keep the table for the next field bpfvm does not model"},
};

bool known_difference(bpf_prog_type type, std::uint32_t off, int size) {
  for (const auto& k : kKnownDifferences)
    if (k.type == type && off >= k.offset && off + static_cast<std::uint32_t>(size) <= k.offset + k.size_bytes)
      return true;
  return false;
}

// One BPF_PROG_LOAD without a log (load_program_with loads a refused program again for its log).
bool kernel_accepts(const TypeCase& c, const std::vector<vm::Insn>& insns) {
  const auto bytes = vm::encode_program(insns);  // struct bpf_insn's layout
  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.prog_type = c.type;
  a.expected_attach_type = c.expected_attach_type;
  a.insns = reinterpret_cast<std::uintptr_t>(bytes.data());
  a.insn_cnt = static_cast<std::uint32_t>(insns.size());
  a.license = reinterpret_cast<std::uintptr_t>("GPL");
  const long fd = testing::kernel_bpf(BPF_PROG_LOAD, a);
  if (fd >= 0) close(static_cast<int>(fd));
  return fd >= 0;
}

bool bpfvm_accepts(const TypeCase& c, const std::vector<vm::Insn>& insns) {
  static const auto registry = [] {
    auto r = std::make_unique<vm::HelperRegistry>();
    static helpers::HelperRuntime runtime;
    helpers::register_kernel_helpers(*r, runtime);
    return r;
  }();
  auto program = vm::decode_program(insns, c.label);
  REQUIRE(program.has_value());
  verifier::VerifierOptions o;
  o.program_type = c.info;
  o.helpers = registry.get();
  return verifier::verify(*program, o).has_value();
}

constexpr const char* kLoads[] = {"ldxb", "ldxh", "ldxw", "ldxdw"};
constexpr const char* kStores[] = {"stxb", "stxh", "stxw", "stxdw"};
constexpr const char* kStoreImms[] = {"stb", "sth", "stw", "stdw"};

// One program per probe: r1 is the context; the access, then r0 = 1 (which every return rule allows:
// some hooks must return exactly 1).
std::vector<vm::Insn> probe(const char* mnemonic, Operand operand, int off) {
  std::vector<vm::Insn> p;
  p.push_back(insn("mov", Operand::Imm, 2, 0, 0, 0));
  if (mnemonic[0] == 'l') p.push_back(insn(mnemonic, Operand::Reg, 0, 1, off));
  else if (operand == Operand::Reg) p.push_back(insn(mnemonic, Operand::Reg, 1, 2, off));
  else p.push_back(insn(mnemonic, Operand::Imm, 1, 0, off, 0));
  p.push_back(insn("mov", Operand::Imm, 0, 0, 0, 1));
  p.push_back(insn("exit", Operand::None));
  return p;
}

// Probes every offset in [from, to) (the whole context and 4 bytes past it by default).
void check_type(const TypeCase& c, int from = -1, int to = -1) {
  std::size_t probes = 0, kernel_accepted = 0;
  const auto end = to >= 0 ? to : static_cast<int>(c.info.ctx_size_bytes) + 4;
  for (int off = from; off < end; ++off)
    for (int w = 0; w < 4; ++w) {
      const int size = 1 << w;
      const std::pair<const char*, Operand> accesses[] = {
          {kLoads[w], Operand::Reg}, {kStores[w], Operand::Reg}, {kStoreImms[w], Operand::Imm}};
      for (const auto& [mnemonic, operand] : accesses) {
        const auto p = probe(mnemonic, operand, off);
        const bool kernel = kernel_accepts(c, p);
        ++probes;
        kernel_accepted += kernel;
        INFO(c.label << ": " << mnemonic << " at ctx offset " << off);
        if (kernel && off >= 0 && known_difference(c.type, static_cast<std::uint32_t>(off), size))
          CHECK_FALSE(bpfvm_accepts(c, p));  // still a difference: once bpfvm accepts, drop the entry
        else
          CHECK(bpfvm_accepts(c, p) == kernel);
      }
    }
  for (std::int32_t r0 = -1; r0 <= 4 && from < 0; ++r0) {
    const std::vector<vm::Insn> p = {insn("mov", Operand::Imm, 0, 0, 0, r0), insn("exit", Operand::None)};
    INFO(c.label << ": exit with r0 = " << r0);
    CHECK(bpfvm_accepts(c, p) == kernel_accepts(c, p));
  }
  // A probe set the kernel refuses whole would compare nothing of the layout.
  INFO(c.label << ": " << probes << " probes");
  CHECK(kernel_accepted > 0);
}

// How a tc program gets the socket pointer it probes (r2 afterwards; every failure jumps to the exit).
enum class SocketSource { SkbSk, FullSock, TcpSock, LookupTcp, SkcLookupTcp, SockOpsSk };

constexpr std::int32_t kSkFullsock = 95, kTcpSock = 96, kSkLookupTcp = 84, kSkRelease = 86, kSkcLookupTcp = 99;

// r2 = the socket; returns the index of each `if ... goto exit` to patch.
std::vector<std::size_t> socket_prefix(std::vector<vm::Insn>& p, SocketSource source) {
  std::vector<std::size_t> to_exit;
  auto null_check = [&](int r) {
    to_exit.push_back(p.size());
    p.push_back(insn("jeq", Operand::Imm, r, 0, 0, 0));
  };
  if (source == SocketSource::LookupTcp || source == SocketSource::SkcLookupTcp) {
    // bpf_sk_lookup_tcp(ctx, &tuple (ipv4: 12 bytes, zeroed), 12, BPF_F_CURRENT_NETNS, 0)
    p.push_back(insn("stdw", Operand::Imm, 10, 0, -16, 0));
    p.push_back(insn("stdw", Operand::Imm, 10, 0, -8, 0));
    p.push_back(insn("mov", Operand::Reg, 2, 10));
    p.push_back(insn("add", Operand::Imm, 2, 0, 0, -16));
    p.push_back(insn("mov", Operand::Imm, 3, 0, 0, 12));
    p.push_back(insn("mov", Operand::Imm, 4, 0, 0, -1));
    p.push_back(insn("mov", Operand::Imm, 5, 0, 0, 0));
    p.push_back(insn("call", Operand::Imm, 0, 0, 0, source == SocketSource::LookupTcp ? kSkLookupTcp : kSkcLookupTcp));
    null_check(0);
    p.push_back(insn("mov", Operand::Reg, 6, 0));  // kept for bpf_sk_release
    p.push_back(insn("mov", Operand::Reg, 2, 0));
    return to_exit;
  }
  if (source == SocketSource::SockOpsSk) {
    p.push_back(insn("ldxdw", Operand::Reg, 2, 1, offsetof(bpf_sock_ops, sk)));
    null_check(2);
    return to_exit;
  }
  p.push_back(insn("ldxdw", Operand::Reg, 2, 1, offsetof(__sk_buff, sk)));
  null_check(2);
  if (source == SocketSource::SkbSk) return to_exit;
  p.push_back(insn("mov", Operand::Reg, 1, 2));
  p.push_back(insn("call", Operand::Imm, 0, 0, 0, source == SocketSource::FullSock ? kSkFullsock : kTcpSock));
  null_check(0);
  p.push_back(insn("mov", Operand::Reg, 2, 0));
  return to_exit;
}

// Each offset and width of the struct behind a socket pointer (and just outside it), with a load, a
// register store and an immediate store, in a tc program (sock_ops for its sk): the kernel's
// check_sock_access verdicts.
void check_socket_fields(const char* label, SocketSource source, int struct_bytes) {
  const TypeCase tc = source == SocketSource::SockOpsSk
                          ? TypeCase{label, BPF_PROG_TYPE_SOCK_OPS, 0, verifier::program_types::sock_ops()}
                          : TypeCase{label, BPF_PROG_TYPE_SCHED_CLS, 0, verifier::program_types::sched_cls()};
  std::size_t kernel_accepted = 0;
  for (int off = -1; off < struct_bytes + 4; ++off)
    for (int w = 0; w < 4; ++w) {
      const std::pair<const char*, Operand> accesses[] = {
          {kLoads[w], Operand::Reg}, {kStores[w], Operand::Reg}, {kStoreImms[w], Operand::Imm}};
      for (const auto& [mnemonic, operand] : accesses) {
        std::vector<vm::Insn> p;
        const auto to_exit = socket_prefix(p, source);
        if (mnemonic[0] == 'l') p.push_back(insn(mnemonic, Operand::Reg, 3, 2, off));
        else if (operand == Operand::Reg) p.push_back(insn(mnemonic, Operand::Reg, 2, 1, off));
        else p.push_back(insn(mnemonic, Operand::Imm, 2, 0, off, 0));
        if (source == SocketSource::LookupTcp || source == SocketSource::SkcLookupTcp) {
          p.push_back(insn("mov", Operand::Reg, 1, 6));
          p.push_back(insn("call", Operand::Imm, 0, 0, 0, kSkRelease));
        }
        const auto exit_at = p.size();
        p.push_back(insn("mov", Operand::Imm, 0, 0, 0, 0));
        p.push_back(insn("exit", Operand::None));
        for (const auto j : to_exit) p[j].off = static_cast<std::int16_t>(exit_at - j - 1);
        const bool kernel = kernel_accepts(tc, p);
        kernel_accepted += kernel;
        INFO(label << ": " << mnemonic << " at offset " << off);
        CHECK(bpfvm_accepts(tc, p) == kernel);
      }
    }
  INFO(label);
  CHECK(kernel_accepted > 0);
}

}  // namespace

TEST_CASE("socket pointer field verdicts equal the running kernel's") {
  check_socket_fields("__sk_buff.sk (sock_common_or_null)", SocketSource::SkbSk, sizeof(bpf_sock));
  check_socket_fields("bpf_sk_fullsock (sock)", SocketSource::FullSock, sizeof(bpf_sock));
  check_socket_fields("bpf_tcp_sock (tcp_sock)", SocketSource::TcpSock, sizeof(bpf_tcp_sock));
  check_socket_fields("bpf_sk_lookup_tcp (referenced sock)", SocketSource::LookupTcp, sizeof(bpf_sock));
  check_socket_fields("bpf_skc_lookup_tcp (referenced sock_common)", SocketSource::SkcLookupTcp, sizeof(bpf_sock));
  check_socket_fields("bpf_sock_ops.sk (sock_or_null)", SocketSource::SockOpsSk, sizeof(bpf_sock));
}

TEST_CASE("__sk_buff.sk verdicts equal the running kernel's for every __sk_buff type") {
  namespace pt = verifier::program_types;
  const TypeCase cases[] = {
      {"socket_filter", BPF_PROG_TYPE_SOCKET_FILTER, 0, pt::socket_filter()},
      {"sched_cls", BPF_PROG_TYPE_SCHED_CLS, 0, pt::sched_cls()},
      {"cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, 0, pt::cgroup_skb()},
      {"lwt_in", BPF_PROG_TYPE_LWT_IN, 0, pt::lwt_in()},
      {"lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, pt::lwt_xmit()},
      {"sk_skb", BPF_PROG_TYPE_SK_SKB, 0, pt::sk_skb()},
  };
  // The 8 bytes of sk and their neighbours (gso_size before, hwtstamp after); socket filters and tc
  // still differ on narrow stores to their writable u32 fields (verifier/README.md), none of them here.
  for (const auto& c : cases) check_type(c, offsetof(__sk_buff, sk) - 4, offsetof(__sk_buff, sk) + 12);
}

TEST_CASE("xdp_md access verdicts equal the running kernel's for each XDP attach type") {
  namespace pt = verifier::program_types;
  // egress_ifindex is readable only from a devmap program (samples/bpf xdp_redirect_map_multi reads it
  // from an "xdp_devmap/" section; from a plain XDP program the kernel refuses the load).
  const TypeCase cases[] = {
      {"xdp", BPF_PROG_TYPE_XDP, 0, pt::xdp()},
      {"xdp (devmap)", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, pt::xdp(BPF_XDP_DEVMAP)},
      {"xdp (cpumap)", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, pt::xdp(BPF_XDP_CPUMAP)},
  };
  for (const auto& c : cases) check_type(c);
}

TEST_CASE("context access verdicts equal the running kernel's") {
  namespace pt = verifier::program_types;
  const TypeCase cases[] = {
      {"cgroup_sock (sock_create)", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE,
       pt::cgroup_sock(BPF_CGROUP_INET_SOCK_CREATE)},
      {"cgroup_sock (sock_release)", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE,
       pt::cgroup_sock(BPF_CGROUP_INET_SOCK_RELEASE)},
      {"cgroup_sock (post_bind4)", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND,
       pt::cgroup_sock(BPF_CGROUP_INET4_POST_BIND)},
      {"cgroup_sock (post_bind6)", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND,
       pt::cgroup_sock(BPF_CGROUP_INET6_POST_BIND)},
      {"cgroup_device", BPF_PROG_TYPE_CGROUP_DEVICE, 0, pt::cgroup_device()},
      {"cgroup_sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, 0, pt::cgroup_sysctl()},
      {"perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, pt::perf_event()},
      {"sock_ops", BPF_PROG_TYPE_SOCK_OPS, 0, pt::sock_ops()},
      {"lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, pt::lwt_seg6local()},
      {"sk_skb", BPF_PROG_TYPE_SK_SKB, 0, pt::sk_skb()},
      {"sk_skb (stream_verdict)", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT, pt::sk_skb()},
      {"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, pt::sk_msg()},
      {"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, 0, pt::flow_dissector()},
      {"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, pt::sk_lookup()},
      {"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, pt::sk_reuseport()},
      {"sk_reuseport (migrate)", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, pt::sk_reuseport()},
      {"raw_tracepoint_writable", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, pt::raw_tracepoint_writable()},
      {"cgroup_sockopt (getsockopt)", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT,
       *pt::cgroup_sockopt(BPF_CGROUP_GETSOCKOPT)},
      {"cgroup_sockopt (setsockopt)", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT,
       *pt::cgroup_sockopt(BPF_CGROUP_SETSOCKOPT)},
  };
  for (const auto& c : cases) check_type(c);
  // Every sock_addr hook of <linux/bpf.h> (the unix socket hooks are newer than it).
  for (const std::uint32_t hook :
       {BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET6_BIND, BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
        BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG, BPF_CGROUP_UDP4_RECVMSG, BPF_CGROUP_UDP6_RECVMSG,
        BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET6_GETPEERNAME, BPF_CGROUP_INET4_GETSOCKNAME,
        BPF_CGROUP_INET6_GETSOCKNAME}) {
    auto info = pt::cgroup_sock_addr(hook);
    REQUIRE(info.has_value());
    const std::string label = "cgroup_sock_addr (attach type " + std::to_string(hook) + ")";
    check_type({label.c_str(), BPF_PROG_TYPE_CGROUP_SOCK_ADDR, hook, *info});
  }
  // Not a sock_addr hook: both refuse the type.
  CHECK_FALSE(pt::cgroup_sock_addr(BPF_CGROUP_INET_SOCK_CREATE).has_value());
  const std::vector<vm::Insn> ret1 = {insn("mov", Operand::Imm, 0, 0, 0, 1), insn("exit", Operand::None)};
  CHECK_FALSE(kernel_accepts({"cgroup_sock_addr (sock_create)", BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
                              BPF_CGROUP_INET_SOCK_CREATE, {}}, ret1));
}
