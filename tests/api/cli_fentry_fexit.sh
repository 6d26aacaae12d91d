#!/bin/sh
# fentry/fexit programs verify against the running kernel's BTF (the target function's prototype gives
# the context: its arguments, then for fexit the return value), must return 0, and read nothing past.
# Usage: cli_fentry_fexit.sh BPFVM OBJECT   (exit 77: no /sys/kernel/btf/vmlinux)
set -u
bpfvm=$1 object=$2
[ -r /sys/kernel/btf/vmlinux ] || { echo "SKIP: no /sys/kernel/btf/vmlinux"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
for p in fentry_backlog fexit_result; do
  out=$("$bpfvm" verify "$object" --prog $p 2>&1) || fail "$p refused: $out"
  echo "$out"
done
out=$("$bpfvm" verify "$object" --prog fentry_past_args 2>&1) && fail "fentry_past_args accepted: $out"
echo "$out"
echo "$out" | grep -q "bpf_context access off=16" || fail "fentry_past_args: not refused for its context read"
out=$("$bpfvm" verify "$object" --prog fentry_returns_1 2>&1) && fail "fentry_returns_1 accepted: $out"
echo "$out"
echo "$out" | grep -q "R0" || fail "fentry_returns_1: not refused for its return value"
echo PASS
