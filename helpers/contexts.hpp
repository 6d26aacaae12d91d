// Program contexts: the host structs behind r1 for each program type, and the ctx-access rewrite.
#pragma once

#include <span>

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>

#include "bpfvm/result.hpp"
#include "vm/program.hpp"

namespace bpfvm::helpers {

/// The program types bpfvm gives a context to (numbers are the kernel's enum bpf_prog_type).
enum class ProgType : std::uint32_t {
  SocketFilter = BPF_PROG_TYPE_SOCKET_FILTER,
  Kprobe = BPF_PROG_TYPE_KPROBE,
  SchedCls = BPF_PROG_TYPE_SCHED_CLS,
  SchedAct = BPF_PROG_TYPE_SCHED_ACT,
  Tracepoint = BPF_PROG_TYPE_TRACEPOINT,
  Xdp = BPF_PROG_TYPE_XDP,
  RawTracepoint = BPF_PROG_TYPE_RAW_TRACEPOINT,
  CgroupSkb = BPF_PROG_TYPE_CGROUP_SKB,
  LwtIn = BPF_PROG_TYPE_LWT_IN,
  LwtOut = BPF_PROG_TYPE_LWT_OUT,
  LwtXmit = BPF_PROG_TYPE_LWT_XMIT,
  FlowDissector = BPF_PROG_TYPE_FLOW_DISSECTOR,
  SkSkb = BPF_PROG_TYPE_SK_SKB,
  SkMsg = BPF_PROG_TYPE_SK_MSG,
  SkLookup = BPF_PROG_TYPE_SK_LOOKUP,
  SkReuseport = BPF_PROG_TYPE_SK_REUSEPORT,
  Syscall = BPF_PROG_TYPE_SYSCALL,
};

/// sk_lookup context: struct bpf_sk_lookup read in place, as the kernel's sk_lookup_convert_ctx_access
/// reads struct bpf_sk_lookup_kern (family and protocol as u16, the other family's addresses 0,
/// remote_port's padding 0, ingress_ifindex 0 in a test run). `md.sk` is the selected socket: always
/// NULL, as bpf_sk_assign of a socket is not supported yet; `no_reuseport` its last flags.
struct SkLookupCtx {
  struct bpf_sk_lookup md;
  bool no_reuseport = false;
};

/// sk_reuseport context: struct sk_reuseport_md read in place (data, data_end, sk and migrating_sk are
/// 8-byte pointers there). `socket` is md.sk, the reuseport group's socket the packet reached;
/// `selected_cookie` the cookie of the socket bpf_sk_select_reuseport selected last (0: none).
struct ReuseportCtx {
  struct sk_reuseport_md md;
  struct bpf_sock socket{};
  std::uint64_t selected_cookie = 0;
  /// The frame's MAC and network headers (bpf_skb_load_bytes_relative's starts); md.data_end ends it.
  const std::uint8_t* mac_header = nullptr;
  const std::uint8_t* network_header = nullptr;
};

/// XDP context. `md` sits at offset 0 so scalar fields (ingress_ifindex, rx_queue_index,
/// egress_ifindex) are read in place; the u32 pointer fields data/data_end/data_meta cannot hold
/// 64-bit host pointers, so rewrite_ctx_access() turns their 4-byte loads into 8-byte loads of the
/// fields after `md` (the kernel's xdp_convert_ctx_access does the same against struct xdp_buff).
struct XdpCtx {
  struct xdp_md md;      // md.data/data_end/data_meta hold the low 32 bits, for inspection only
  std::uint32_t pad_ = 0;
  std::uint64_t data = 0;
  std::uint64_t data_end = 0;
  std::uint64_t data_meta = 0;  // == data when there is no metadata
  std::uint64_t hard_start = 0;  // start of the frame buffer (headroom begins here)
  std::uint32_t frame_sz = 0;    // bytes from hard_start to the end of the buffer (incl. tailroom)
};

/// __sk_buff context (socket filter, tc, cgroup_skb, lwt_*). Same scheme as XdpCtx: `md` in place, 64-bit pointers after.
/// Only the linear part exists: len == data_end - data for tc; for socket filters data starts at
/// the network header and len counts from there, as in the kernel.
/// `sk` is __sk_buff.sk (8 bytes there too, moved here so it holds a host pointer): the skb's socket
/// as the read-only struct bpf_sock in `socket`, or 0 (none). A flow dissector's context is one too:
/// data/data_end and md.flow_keys (8 bytes, a host pointer in place) to the struct bpf_flow_keys it fills.
struct SkbCtx {
  struct __sk_buff md;
  std::uint64_t data = 0;
  std::uint64_t data_end = 0;
  std::uint64_t data_meta = 0;
  std::uint64_t sk = 0;
  std::uint64_t mac_header = 0;  // start of the Ethernet header (test_run pushes it back for output)
  /// sk_skb only: the frame [frame_begin, frame_end) bpf_skb_change_head/_tail and bpf_skb_adjust_room
  /// may grow the packet into; 0 for the other types (those helpers are not supported for them yet).
  std::uint64_t frame_begin = 0;
  std::uint64_t frame_end = 0;
  /// tc and lwt: the lowest address bpf_skb_adjust_room / bpf_skb_change_head may push data down to (test_run's headroom,
  /// room for BPF_SKB_MAX_LEN, where the kernel reallocates the head); 0 for the other types.
  std::uint64_t room_begin = 0;
  /// tc and lwt: the end of that buffer; bpf_skb_change_tail grows data_end up to it (moving the packet
  /// down to room_begin when a grown packet would pass it, as the kernel reallocates).
  std::uint64_t room_end = 0;
  /// tc and lwt: skb_network_offset (network header - data): tc's data is at the MAC header, 14 from test_run,
  /// lwt's at the network header, 0;
  /// kept by bpf_skb_adjust_room, grown by bpf_skb_change_head's pushed bytes.
  std::uint64_t net_offset = 0;
  /// skb->encapsulation: set by an encapsulating bpf_skb_adjust_room (a second one is -EALREADY).
  bool encapsulation = false;
  /// skb->mac_len is no longer test_run's 0 (eth_type_trans leaves it unset): a VLAN helper moved a tag
  /// into or out of the packet. bpf_skb_ecn_set_ce's walk through in-packet tags starts from it.
  bool mac_len_set = false;
  /// skb->l4_hash / sw_hash: md.hash was set by bpf_set_hash or computed by bpf_get_hash_recalc (it is
  /// returned as is until bpf_set_hash_invalid or a helper that clears the hash).
  bool l4_hash = false;
  bool sw_hash = false;
  /// skb->ip_summed (CHECKSUM_NONE 0, CHECKSUM_UNNECESSARY 1; test-run skbs start at NONE) and
  /// skb->csum_level, which bpf_csum_level moves.
  std::uint8_t ip_summed = 0;
  std::uint8_t csum_level = 0;
  /// What `sk` points to (outside the ctx region: programs read it only through socket pointers).
  struct SkbSocket {
    struct bpf_sock sock;          // PTR_TO_SOCK_COMMON / PTR_TO_SOCKET
    struct bpf_tcp_sock tcp_sock;  // PTR_TO_TCP_SOCK: bpf_tcp_sock gives it for a TCP stream socket
  } socket{};
};

/// skb->ip_summed values SkbCtx::ip_summed takes (include/linux/skbuff.h).
inline constexpr std::uint8_t kChecksumNone = 0, kChecksumUnnecessary = 1;

/// The kernel's BPF_SKB_MAX_LEN (SKB_MAX_ALLOC: four 4 KiB pages less the 320-byte shared info): the
/// longest packet bpf_skb_change_tail/_head may make, and the longest stream bytes an sk_skb run takes.
inline constexpr std::size_t kSkbMaxLenBytes = 4 * 4096 - 320;

/// The kernel's MAX_MSG_FRAGS (MAX_SKB_FRAGS): the fragments one struct sk_msg holds at most.
inline constexpr std::size_t kMaxMsgFrags = 17;

/// sk_msg context. `md` sits at offset 0 and is read in place: its data/data_end are 8-byte pointers
/// (__bpf_md_ptr), `size` the message's length, `sk` points to `socket`. The message is a list of
/// fragments as the kernel's scatterlist ring (struct sk_msg): data/data_end name the first one
/// (sk_msg_compute_data_pointers), or the window bpf_msg_pull_data made directly readable. Fragment
/// bytes live in `arena`, which never moves during a run; bytes bpf_msg_push_data adds come from its
/// unused tail.
struct MsgCtx {
  struct sk_msg_md md;
  struct bpf_sock socket{};
  struct Fragment {
    std::uint8_t* bytes = nullptr;
    std::uint32_t length = 0;
  };
  Fragment frags[kMaxMsgFrags] = {};
  std::uint32_t nr_frags = 0;
  std::uint8_t* arena = nullptr;
  std::size_t arena_used_bytes = 0;
  std::size_t arena_bytes = 0;
  /// What bpf_msg_apply_bytes / bpf_msg_cork_bytes set (the kernel's msg->apply_bytes, cork_bytes).
  std::uint32_t apply_bytes = 0;
  std::uint32_t cork_bytes = 0;
  bool apply_bytes_set = false;
  bool cork_bytes_set = false;
};

/// struct pt_regs as an x86-64 kprobe program sees it (arch/x86/include/uapi/asm/ptrace.h),
/// whatever the host architecture. Kprobe programs read it in place: no rewrite needed.
struct PtRegsX86 {
  std::uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax,
      rip, cs, eflags, rsp, ss;
};
static_assert(sizeof(PtRegsX86) == 21 * 8);

/// Kernel-like convert_ctx_access for `type`: finds every load from the context pointer and
/// rewrites the ones whose layout differs on the host (the data/data_end/data_meta u32 fields of
/// xdp_md and __sk_buff become 8-byte loads of XdpCtx/SkbCtx fields; __sk_buff.sk is read from SkbCtx::sk). A small dataflow pass tracks
/// which registers and fixed stack slots hold the context (r1 at entry, moves, spills, BPF-to-BPF
/// call arguments); an access through a register that holds the context on some paths only is
/// refused (Errc::Unsupported), as are writes to pointer fields and narrow pointer loads
/// (Errc::Rejected, as the kernel verifier does). Types without pointer fields are returned as-is.
/// With `ctx_accesses` (the verifier's VerifiedProgram::ctx_accesses(): per insn, 1 when its base
/// register is the context on every verified path) the rewrite follows those facts instead of its own
/// dataflow, so a context spilled through any stack pointer and filled through another is still found.
Result<vm::Program> rewrite_ctx_access(const vm::Program& program, ProgType type,
                                       std::span<const std::uint8_t> ctx_accesses = {});

/// The kernel's specialize_kfunc for bpfvm's kfuncs: in a type that may not write packet data (the
/// verifier's ProgramTypeInfo::packet_writable, may_access_direct_pkt_data), a verified program's
/// bpf_dynptr_from_skb calls become calls of kDynptrFromSkbRdonly, which makes read-only dynptrs.
inline constexpr char kDynptrFromSkbRdonly[] = "bpf_dynptr_from_skb_rdonly";
void specialize_kfuncs(vm::Program& program, bool packet_writable);

}  // namespace bpfvm::helpers
