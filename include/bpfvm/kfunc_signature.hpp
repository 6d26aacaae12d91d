// KfuncSignature (public): a kernel function's (kfunc's) argument and return kinds, read by the kernel's
// verifier from the function's BTF prototype and its argument-name suffixes (Documentation/bpf/kfuncs.rst:
// __szk, __opt, __uninit). The verifier checks call sites against it; engines ignore it.
#pragma once

#include <array>
#include <cstdint>

namespace bpfvm {

/// What one kfunc argument must be.
enum class KfuncArg : std::uint8_t {
  None,          ///< no argument in this register
  Scalar,        ///< a scalar passed by value (u32, u64, bool)
  Dynptr,        ///< `const struct bpf_dynptr *`: an initialised dynptr (KF_ARG_PTR_TO_DYNPTR)
  DynptrUninit,  ///< `struct bpf_dynptr *x__uninit`: 16 stack bytes the kfunc makes a dynptr (MEM_UNINIT)
  MemOpt,        ///< `void *x__opt`: NULL, or writable memory of the size the next argument gives
  ConstSize,     ///< `u32 x__szk`: a constant known to the verifier (the size of the argument before it,
                 ///< and of the memory the kfunc returns)
  IterNumNew,    ///< `struct bpf_iter_num *`: 8 uninitialised stack bytes the kfunc makes an iterator (KF_ITER_NEW)
  IterNumNext,   ///< an initialised bpf_iter_num the kfunc steps (KF_ITER_NEXT: the verifier forks the loop)
  IterNumDestroy,  ///< an initialised bpf_iter_num the kfunc ends (KF_ITER_DESTROY: releases it)
  Ctx,           ///< the program's context, unmodified (KF_ARG_PTR_TO_CTX: `struct __sk_buff *`, `struct xdp_md *`)
  PacketDynptrUninit,  ///< as DynptrUninit, the dynptr naming packet bytes (bpf_dynptr_from_skb/_xdp):
                       ///< its slices are packet pointers, invalidated when a helper moves packet data
};

/// What a kfunc returns in r0.
enum class KfuncRet : std::uint8_t {
  Integer,          ///< a scalar (int, u32, bool)
  Void,             ///< nothing: r0 is not readable after the call
  MemOrNull,        ///< `void *` (KF_RET_NULL): NULL or writable memory of the __szk argument's size
  RdonlyMemOrNull,  ///< the same, read-only (bpf_dynptr_slice)
  RdonlyIntOrNull,  ///< `int *` (KF_RET_NULL): NULL or 4 read-only bytes (bpf_iter_num_next)
};

struct KfuncSignature {
  KfuncRet ret = KfuncRet::Integer;
  std::array<KfuncArg, 5> args{};  ///< r1..r5
};

}  // namespace bpfvm
