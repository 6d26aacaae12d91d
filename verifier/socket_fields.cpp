// Socket field tables, measured on 6.18 at every offset and width (tests/verifier/test_kernel_ctx_access):
// the kernel's bpf_sock_is_valid_access, bpf_sock_common_is_valid_access (no type, protocol, mark or
// priority: a request or timewait socket lacks them) and bpf_tcp_sock_is_valid_access. Every socket
// field is read only ("cannot write into sock").
#include "verifier/socket_fields.hpp"

#include <linux/bpf.h>

#include <array>
#include <cstddef>

namespace bpfvm::verifier {

namespace {

// Loads of exactly `size` bytes at off.
constexpr CtxField whole(std::uint32_t off, std::uint32_t size) {
  return CtxField{.offset = off, .size_bytes = size, .whole_loads = true, .whole_stores = true};
}
// Loads of any aligned width inside [off, off + size) (an address word: not 8 bytes across two).
constexpr CtxField narrow(std::uint32_t off, std::uint32_t size = 4) { return CtxField{.offset = off, .size_bytes = size}; }
// Loads of any width up to 4, at off only (a `case offsetof(...)` in the kernel).
constexpr CtxField at_start(std::uint32_t off) {
  return CtxField{.offset = off, .size_bytes = 4, .loads_at_start = true};
}

// struct bpf_sock: bound_dev_if, mark and priority whole; family, type, protocol, src_port, state and
// rx_queue_mapping at their first byte; addresses in any aligned width up to 4; dst_port (__be16) in
// 1 or 2 bytes, or as a whole u32 with its padding.
#define BPF_SOCK_COMMON_FIELDS                                                                               \
  whole(offsetof(bpf_sock, bound_dev_if), 4), at_start(offsetof(bpf_sock, family)),                         \
      narrow(offsetof(bpf_sock, src_ip4)), narrow(offsetof(bpf_sock, src_ip6)),                             \
      narrow(offsetof(bpf_sock, src_ip6) + 4), narrow(offsetof(bpf_sock, src_ip6) + 8),                     \
      narrow(offsetof(bpf_sock, src_ip6) + 12),                                                             \
      at_start(offsetof(bpf_sock, src_port)), narrow(offsetof(bpf_sock, dst_port), 2),                      \
      whole(offsetof(bpf_sock, dst_port), 4), narrow(offsetof(bpf_sock, dst_ip4)),                          \
      narrow(offsetof(bpf_sock, dst_ip6)), narrow(offsetof(bpf_sock, dst_ip6) + 4),                         \
      narrow(offsetof(bpf_sock, dst_ip6) + 8), narrow(offsetof(bpf_sock, dst_ip6) + 12),                    \
      at_start(offsetof(bpf_sock, state)),                                                                  \
      at_start(offsetof(bpf_sock, rx_queue_mapping))

constexpr CtxField kSockCommon[] = {BPF_SOCK_COMMON_FIELDS};
constexpr CtxField kSocket[] = {BPF_SOCK_COMMON_FIELDS,
                                at_start(offsetof(bpf_sock, type)),
                                at_start(offsetof(bpf_sock, protocol)),
                                whole(offsetof(bpf_sock, mark), 4),
                                whole(offsetof(bpf_sock, priority), 4)};
#undef BPF_SOCK_COMMON_FIELDS

// struct bpf_tcp_sock: every field whole (bytes_received and bytes_acked as u64).
constexpr auto kTcpSock = [] {
  constexpr std::uint32_t kEnd = sizeof(bpf_tcp_sock);  // icsk_retransmits is the last field
  std::array<CtxField, kEnd / 4 - 2> f{};
  std::size_t n = 0;
  f[n++] = whole(offsetof(bpf_tcp_sock, bytes_received), 8);
  f[n++] = whole(offsetof(bpf_tcp_sock, bytes_acked), 8);
  for (std::uint32_t off = 0; off < kEnd; off += 4)
    if (off < offsetof(bpf_tcp_sock, bytes_received) || off >= offsetof(bpf_tcp_sock, dsack_dups)) f[n++] = whole(off, 4);
  return f;
}();

}  // namespace

std::span<const CtxField> socket_fields(RegType type) {
  switch (type) {
    case RegType::SockCommon: return kSockCommon;
    case RegType::Socket: return kSocket;
    case RegType::TcpSock: return kTcpSock;
    default: return {};
  }
}

std::uint32_t socket_struct_bytes(RegType type) {
  return type == RegType::TcpSock ? sizeof(bpf_tcp_sock) : sizeof(bpf_sock);
}

}  // namespace bpfvm::verifier
