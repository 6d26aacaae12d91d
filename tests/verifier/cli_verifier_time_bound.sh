#!/bin/sh
# `bpfvm verify` bounds verification time by default (tools/bpfvm/input.hpp kDefaultVerifierTimeMs):
# the program below (64 initialised stack slots, a loop counter spilled at fp-8 and 30 fills, each
# followed by a jump, per trip) reached the kernel's 1M processed insns only after 20-57 s on this
# machine (2026-12-07), comparing states at every jump target; 5-7 s once StackSlots::leq stopped
# scanning the spills once per slot. Still well above the 500 ms asked for below. With a bound the refusal
# is one line naming the limit and the option; the help names the default. (Waiting for the default's
# 30 s is left to the report: ctest runs no timing.) `bpfvm bench`, `fuzz` and `compare` (the program
# as an ELF object, assembled by CLANG when given) take the same option and stop the same way.
# Usage: cli_verifier_time_bound.sh BPFVM WORKDIR [CLANG]
set -u
bpfvm=$1 work=$2 clang=${3:-}
rm -rf "$work" && mkdir -p "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
prog="$work/slow_compares.s"
{
  echo "mov %r0, 0"
  i=1; while [ $i -le 64 ]; do echo "stdw [%r10-$((8 * i))], $i"; i=$((i + 1)); done
  echo "stdw [%r10-8], 0"
  echo "loop:"
  k=0; while [ $k -lt 30 ]; do
    echo "ldxdw %r3, [%r10-$((8 * (k % 62 + 2)))]"; echo "jgt %r3, 1000, L$k"; echo "L$k:"; k=$((k + 1))
  done
  echo "ldxdw %r9, [%r10-8]"; echo "add %r9, 1"; echo "stxdw [%r10-8], %r9"; echo "jlt %r9, 100000, loop"; echo "exit"
} >"$prog"

# Refused with one line naming the bound BOUND_US and its option, exit 1: refused_in_time BOUND_US COMMAND...
refused_in_time() {
  bound_us=$1
  shift
  out=$("$@" 2>&1)
  status=$?
  echo "$out"
  [ "$status" = 1 ] || fail "$2 exited $status, want 1 (refused)"
  [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "$2: the refusal is not one line"
  echo "$out" | grep -q "verification stopped: the verification time.*--max-verifier-time-ms.*bound of $bound_us " ||
    fail "$2: the refusal does not name the time bound and its option"
}
refused_in_time 500000 "$bpfvm" verify "$prog" --type socket --max-verifier-time-ms 500
refused_in_time 50000 "$bpfvm" bench "$prog" --type socket --engines interp,jit --repeat 1 --rounds 1 --max-verifier-time-ms 50
refused_in_time 50000 "$bpfvm" fuzz "$prog" --type socket --runs 1 --artifacts "$work/artifacts" --max-verifier-time-ms 50
for cmd in verify run bench fuzz compare; do
  "$bpfvm" $cmd --help | grep -q -- "--max-verifier-time-ms MS .*default 30000" || fail "$cmd --help names no default time bound"
done

# compare takes ELF objects only: the same program in LLVM's BPF assembly syntax, in a socket section.
if [ -n "$clang" ]; then
  elf_src="$work/slow_compares_elf.s"
  {
    echo '.section socket,"ax",@progbits'; echo '.globl slow'; echo '.type slow,@function'; echo 'slow:'
    echo "r0 = 0"
    i=1; while [ $i -le 64 ]; do echo "r1 = $i"; echo "*(u64 *)(r10 - $((8 * i))) = r1"; i=$((i + 1)); done
    echo "r1 = 0"; echo "*(u64 *)(r10 - 8) = r1"
    echo "LBB_loop:"
    k=0; while [ $k -lt 30 ]; do
      echo "r3 = *(u64 *)(r10 - $((8 * (k % 62 + 2))))"; echo "if r3 > 1000 goto LBB_$k"; echo "LBB_$k:"; k=$((k + 1))
    done
    echo "r9 = *(u64 *)(r10 - 8)"; echo "r9 += 1"; echo "*(u64 *)(r10 - 8) = r9"; echo "if r9 < 100000 goto LBB_loop"
    echo "exit"; echo '.size slow, .-slow'
    echo '.section license,"aw",@progbits'; echo '.asciz "GPL"'
  } >"$elf_src"
  "$clang" -target bpf -c "$elf_src" -o "$work/slow_compares.o" || fail "clang could not assemble $elf_src"
  refused_in_time 50000 "$bpfvm" compare "$work/slow_compares.o" --max-verifier-time-ms 50
else
  echo "compare: skipped (no clang to assemble an ELF object)"
fi
echo "PASS"
