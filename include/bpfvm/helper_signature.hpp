// HelperSignature (public): a helper's argument and return types, in the kernel's terms (enum bpf_arg_type,
// enum bpf_return_type). The verifier checks call sites against it; engines ignore it.
#pragma once

#include <array>
#include <cstdint>

namespace bpfvm {

/// What a helper argument must be (the kernel's enum bpf_arg_type).
enum class ArgType : std::uint8_t {
  DontCare,            ///< ARG_DONTCARE: unused argument
  Anything,            ///< ARG_ANYTHING: any initialised scalar
  ConstMapPtr,         ///< ARG_CONST_MAP_PTR: a map loaded by lddw
  PtrToMapKey,         ///< ARG_PTR_TO_MAP_KEY: key_size readable bytes (stack, map value)
  PtrToMapValue,       ///< ARG_PTR_TO_MAP_VALUE: value_size readable bytes
  PtrToMem,            ///< ARG_PTR_TO_MEM | MEM_RDONLY: readable bytes, size in the next argument
  PtrToUninitMem,      ///< ARG_PTR_TO_UNINIT_MEM: writable bytes, size in the next argument
  ConstSize,           ///< ARG_CONST_SIZE: size of the previous memory argument, > 0
  ConstSizeOrZero,     ///< ARG_CONST_SIZE_OR_ZERO
  PtrToCtx,            ///< ARG_PTR_TO_CTX
  PtrToStack,          ///< ARG_PTR_TO_STACK
  PtrToFunc,           ///< ARG_PTR_TO_FUNC: a callback subprogram (bpf_loop, for_each_map_elem)
  PtrToRingbufMem,     ///< ARG_PTR_TO_ALLOC_MEM | OBJ_RELEASE: a ringbuf reservation being released
  PtrToSpinLock,       ///< ARG_PTR_TO_SPIN_LOCK
  PtrToLong,           ///< ARG_PTR_TO_LONG: 8 writable bytes
  PtrToConstStr,       ///< ARG_PTR_TO_CONST_STR: NUL-terminated string in a read-only map
  ConstAllocSizeOrZero,///< ARG_CONST_ALLOC_SIZE_OR_ZERO: size of the reservation returned
  PtrToUninitMapValue, ///< ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE: value_size bytes the helper writes
                       ///< (bpf_map_pop_elem, bpf_map_peek_elem): need not be initialised, must be writable
  PtrToInt,            ///< ARG_PTR_TO_INT: 4 writable bytes
  PtrToSocket,         ///< ARG_PTR_TO_SOCKET: a non-null full socket (struct bpf_sock)
  PtrToSockCommon,     ///< ARG_PTR_TO_SOCK_COMMON: a non-null socket, full or not, or a tcp_sock
  PtrToBtfIdSockCommon,///< ARG_PTR_TO_BTF_ID_SOCK_COMMON: the same socket pointers (bpfvm has no BTF ids);
                       ///< bpf_sk_release (id 86) also releases the reference it names (OBJ_RELEASE)
  /// ARG_PTR_TO_BTF_ID (task_struct, file, inode, ...): a non-null, trusted kernel object pointer of the
  /// struct the kernel helper's prototype names (verifier/btf_pointer.cpp helper_btf_arg; other helpers'
  /// calls are refused "not supported yet"), and ARG_PTR_TO_PERCPU_BTF_ID.
  PtrToBtfId,
  // Kernel objects bpfvm's verifier does not model yet: a call passing one is refused "not supported yet".
  PtrToDynptr,         ///< ARG_PTR_TO_DYNPTR
  PtrToTimer,          ///< ARG_PTR_TO_TIMER
  PtrToKptr,           ///< ARG_PTR_TO_KPTR
  PtrToCtxOrNull,      ///< ARG_PTR_TO_CTX_OR_NULL: the unmodified context, or NULL (bpf_get_netns_cookie)
  PtrToMapValueOrNull, ///< ARG_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL: NULL, or value_size readable bytes
                       ///< (bpf_*_storage_get's initial value)
  PtrToBtfIdOrNull,    ///< ARG_PTR_TO_BTF_ID_OR_NULL: NULL, or PtrToBtfId's object, possibly NULL
                       ///< (bpf_task/inode/cgrp_storage_get/delete's object)
  PtrToSocketOrNull,   ///< ARG_PTR_TO_SOCKET | PTR_MAYBE_NULL: NULL, or a full socket possibly NULL
                       ///< (sk_lookup's bpf_sk_assign)
  PtrToMemOrNull,      ///< ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY: PtrToMem, or NULL with a size that may
                       ///< be zero (bpf_csum_diff, bpf_snprintf's and bpf_trace_vprintk's data); PtrToMem and
                       ///< PtrToUninitMem take no NULL, even with a zero size
};

/// What a helper returns (the kernel's enum bpf_return_type).
enum class RetType : std::uint8_t {
  Integer,             ///< RET_INTEGER
  Void,                ///< RET_VOID
  PtrToMapValueOrNull, ///< RET_PTR_TO_MAP_VALUE_OR_NULL
  PtrToAllocMemOrNull, ///< RET_PTR_TO_MEM_OR_NULL | MEM_ALLOC: ringbuf reservation (acquires a reference)
  PtrToMemOrNull,      ///< RET_PTR_TO_MEM_OR_NULL: memory of the size in the ConstAllocSizeOrZero arg
  PtrToMapValue,       ///< RET_PTR_TO_MAP_VALUE: never NULL (bpf_get_local_storage)
  /// Socket pointers. Whether the result holds a reference follows the helper id, as in the kernel:
  /// bpf_sk_lookup_tcp/udp and bpf_skc_lookup_tcp acquire one; bpf_sk_fullsock and bpf_tcp_sock carry
  /// their argument's.
  PtrToSocketOrNull,   ///< RET_PTR_TO_SOCKET_OR_NULL (struct bpf_sock, a full socket)
  PtrToSockCommonOrNull, ///< RET_PTR_TO_SOCK_COMMON_OR_NULL (struct bpf_sock, common fields only)
  PtrToTcpSockOrNull,  ///< RET_PTR_TO_TCP_SOCK_OR_NULL (struct bpf_tcp_sock)
  /// A kernel object: the verifier knows the struct of the kernel helpers that return one
  /// (bpf_get_current_task_btf, bpf_task_pt_regs, bpf_skc_to_*) and refuses other calls "not supported yet".
  PtrToBtfId,          ///< RET_PTR_TO_BTF_ID (maybe NULL), RET_PTR_TO_MEM_OR_BTF_ID (per-cpu variables)
};

/// A helper's types: the verifier checks every call against them.
struct HelperSignature {
  RetType ret = RetType::Integer;  ///< the r0 the verifier assumes after the call
  /// r1..r5.
  std::array<ArgType, 5> args{ArgType::Anything, ArgType::Anything, ArgType::Anything,
                              ArgType::Anything, ArgType::Anything};
  bool known = false;  ///< false: the verifier treats r1..r5 as Anything and r0 as an unknown scalar
};

}  // namespace bpfvm

namespace bpfvm::vm {
using bpfvm::ArgType;
using bpfvm::HelperSignature;
using bpfvm::RetType;
}  // namespace bpfvm::vm
