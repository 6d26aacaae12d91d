// The packet dynptr kfuncs (net/core/filter.c) beside the generic ones, declared as libbpf's users do.
#pragma once
#include "dynptr_kfuncs.h"

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
