// What a load through a socket pointer may read: struct bpf_sock (PTR_TO_SOCK_COMMON, PTR_TO_SOCKET)
// and struct bpf_tcp_sock (PTR_TO_TCP_SOCK) as read-only field tables in the context's terms.
#pragma once

#include <cstdint>
#include <span>

#include "verifier/domains/reg_value.hpp"
#include "verifier/verifier.hpp"

namespace bpfvm::verifier {

/// The readable fields behind a socket pointer of `type` (SockCommon, Socket or TcpSock; else empty).
std::span<const CtxField> socket_fields(RegType type);
/// sizeof the UAPI struct behind it (bpf_sock or bpf_tcp_sock), for messages.
std::uint32_t socket_struct_bytes(RegType type);

}  // namespace bpfvm::verifier
