// RegValue: what one register (or spilled stack slot) may hold — its type and, for scalars, its
// value or, for pointers, its offset from the base object, both as a ScalarDomain.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "verifier/domains/scalar_domain.hpp"

namespace bpfvm::verifier {

enum class RegType : std::uint8_t {
  NotInit,     // never written on this path
  Scalar,      // a number
  Ctx,         // the program's context (offset from its start)
  Stack,       // a frame's stack (offset from the frame pointer, so negative)
  MapPtr,      // a map handle from lddw (aux = map index)
  MapValue,    // a map value (aux = map index); maybe_null until checked against 0
  Packet,      // packet data (offset from data)
  PacketEnd,   // data_end
  PacketMeta,  // data_meta (offset from data_meta)
  Mem,         // memory of aux bytes (plain programs' r1, helper-returned memory)
  RingbufMem,  // a ring buffer reservation of aux bytes, reference id `ref`
  FuncPtr,     // a subprogram (aux = its first insn), from lddw BPF_PSEUDO_FUNC
  // Sockets (the kernel's PTR_TO_SOCK_COMMON, PTR_TO_SOCKET, PTR_TO_TCP_SOCK): read-only views of
  // struct bpf_sock / bpf_tcp_sock, offset always 0 (no arithmetic); maybe_null until checked; `ref`
  // names the reference a bpf_sk_lookup_* acquired (0: none to release).
  SockCommon,  // struct bpf_sock, common fields only (a request or timewait socket may hide behind it)
  Socket,      // struct bpf_sock, a full socket
  TcpSock,     // struct bpf_tcp_sock
  // A kernel object (the kernel's PTR_TO_BTF_ID): aux = its struct's BTF id in the kernel's BTF
  // (VerifierOptions::kernel_types), value = offset into it; loads only, checked against the struct's
  // layout (btf_pointer.cpp). `untrusted`: read out of another object's field (PTR_UNTRUSTED), so a
  // comparison with 0 is not decided.
  BtfId,
  // A flow dissector's struct bpf_flow_keys (the kernel's PTR_TO_FLOW_KEYS; value = offset): loads and
  // stores of numbers inside its 56 bytes, constant arithmetic only, never a helper argument.
  FlowKeys,
  // A writable raw tracepoint's buffer (PTR_TO_TP_BUFFER; value = offset): its size is the
  // tracepoint's, unknown at load, so any access at a constant offset >= 0 is allowed and the furthest
  // byte reached is recorded (VerifierStats::tp_buffer_bytes, checked when the program runs).
  TpBuffer,
  // A struct bpf_dynptr the kernel built (CONST_PTR_TO_DYNPTR: bpf_user_ringbuf_drain's callback
  // argument, a BPF_DYNPTR_TYPE_LOCAL over one sample): offset always 0, no loads, stores or
  // arithmetic; only helpers taking a const dynptr (bpf_dynptr_read/write/data) accept it.
  Dynptr,
};

/// Renaming between the pointer ids of two states, built while comparing them.
class IdMap {
 public:
  /// True when old_id may stand for cur_id consistently with every earlier pairing.
  bool pair(std::uint32_t old_id, std::uint32_t cur_id);
  /// The current id paired with old_id, or 0.
  std::uint32_t cur_of(std::uint32_t old_id) const;
  /// Scalar link ids (the kernel's check_scalar_ids): an unlinked scalar (id 0) on either side stands
  /// for a link of its own, so an old link shared by one scalar only needs no link in the current
  /// state, while one shared by several needs them linked together there too.
  bool pair_scalar(std::uint32_t old_id, std::uint32_t cur_id);
  static constexpr std::uint32_t kRefTag = 0x80000000u, kPacketTag = 0x40000000u, kScalarTag = 0x20000000u;

 private:
  static constexpr std::uint32_t kUnlinkedTag = 0x10000000u;  // with kScalarTag: a fresh id per unlinked scalar
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;
  std::uint32_t unlinked_ = 0;
};

struct RegValue {
  RegType type = RegType::NotInit;
  bool maybe_null = false;  // MapValue, Mem, RingbufMem, sockets: null until a check proves otherwise
  bool read_only = false;   // Mem: writes refused
  bool untrusted = false;   // BtfId: loaded from a field, may be NULL at run time (not checked)
  bool percpu = false;      // BtfId: a per-CPU variable (MEM_PERCPU), aux = its type's id (any kind): no
                            // loads; bpf_this_cpu_ptr / bpf_per_cpu_ptr take it
  bool packet_slice = false;  // Mem: a bpf_dynptr_slice of an skb/xdp dynptr (the kernel's DYNPTR_TYPE_SKB/XDP
                              // PTR_TO_MEM): dies with the packet pointers (invalidate_packet_pointers)
  std::uint8_t frame = 0;   // Stack: which call frame's stack
  std::uint32_t id = 0;     // maybe_null pointers: copies share an id so one check covers all;
                            // packet pointers: names the variable part of the offset;
                            // scalars: copies made by mov share an id, so a bound learned on one holds for all
  std::uint32_t ref = 0;    // RingbufMem, sockets: the reference to release (the kernel's ref_obj_id);
                            // the pointer the reference was acquired through has id == ref
  std::uint32_t aux = 0;    // MapPtr/MapValue: map index; Mem/RingbufMem: size; FuncPtr: insn;
                            // linked scalars (id != 0): constant delta to the link's base (int32);
                            // Packet/PacketMeta with id: constant added since the variable part (int32)
  ScalarDomain value = ScalarDomain::top();  // Scalar: the value; pointers: the offset

  static RegValue not_init() { return RegValue{}; }
  static RegValue scalar(const ScalarDomain& v) {
    RegValue r;
    r.type = RegType::Scalar;
    r.value = v;
    return r;
  }
  static RegValue unknown() { return scalar(ScalarDomain::top()); }
  static RegValue pointer(RegType type, std::uint32_t aux = 0, std::int64_t off = 0) {
    RegValue r;
    r.type = type;
    r.aux = aux;
    r.value = ScalarDomain::constant(static_cast<std::uint64_t>(off));
    return r;
  }

  bool is_init() const { return type != RegType::NotInit; }
  bool is_scalar() const { return type == RegType::Scalar; }
  bool is_pointer() const { return type != RegType::NotInit && type != RegType::Scalar; }

  /// Every concrete value *this allows, `old` allows too (old comes from an explored state).
  bool leq(const RegValue& old, IdMap& ids) const;

  friend bool operator==(const RegValue&, const RegValue&) = default;
};

}  // namespace bpfvm::verifier
