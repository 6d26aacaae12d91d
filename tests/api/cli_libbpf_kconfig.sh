#!/bin/sh
# The CLI fills the __kconfig externs libbpf answers itself (LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE,
# LINUX_HAS_SYSCALL_WRAPPER): objects that declare them (libbpf-tools through usdt.bpf.h) open, and the
# values are libbpf's on this host (true), so the branch guarded by them verifies as dead.
# Usage: cli_libbpf_kconfig.sh BPFVM OBJECT
set -u
bpfvm=$1 object=$2
fail() { echo "FAIL: $*"; exit 1; }
out=$("$bpfvm" objdump "$object" 2>&1) || fail "objdump refused the object: $out"
echo "$out" | grep -q "^programs: 1" || fail "objdump did not list the program: $out"
out=$("$bpfvm" verify "$object" 2>&1) || fail "verify refused the object: $out"
echo "$out"
echo "$out" | grep -q "libbpf_kconfig: accepted (" || fail "verify did not accept"
out=$("$bpfvm" verify "$object" --kconfig LINUX_HAS_BPF_COOKIE=n 2>&1) && fail "a given value did not replace the default: $out"
echo "$out" | grep -q "invalid access to map value" || fail "the refusal is not the dead branch's: $out"
echo PASS
