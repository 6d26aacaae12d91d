// The open-coded numeric iterator kfuncs (kernel/bpf/bpf_iter.c), declared as libbpf's users declare
// them (the installed libbpf's bpf_helpers.h has no bpf_for), and two loop macros in the shape of
// libbpf's bpf_for / bpf_repeat: new once, next until NULL, destroy after the loop.
#pragma once
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_iter_num {
  __u64 opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

// ITER_FOR(it, i, start, end) { body } runs body for i = start .. end-1; the caller destroys `it`
// after the loop. Like bpf_for, it checks the value against the range, as the verifier does not know
// it (an unknown number).
#define ITER_FOR(it, i, start, end)                                                       \
  for (bpf_iter_num_new(&(it), (start), (end));                                           \
       ({                                                                                 \
         int *iter_p_ = bpf_iter_num_next(&(it));                                         \
         iter_p_ && ((i) = *iter_p_, (i) >= (start) && (i) < (end));                      \
       });)

// ITER_REPEAT(it, n) { body } runs body n times (bpf_repeat).
#define ITER_REPEAT(it, n) for (bpf_iter_num_new(&(it), 0, (n)); bpf_iter_num_next(&(it));)
