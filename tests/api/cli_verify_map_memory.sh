#!/bin/sh
# `bpfvm verify` allocates no map memory (LoadOptions::verify_only), so the map memory cap does not
# stop it; `bpfvm run` keeps the cap. Katran's balancer has a 268 MB map, over the 256 MiB default:
# here a 64-byte cap stands for it against xdp_parse's maps.
# Usage: cli_verify_map_memory.sh BPFVM OBJECT
set -u
bpfvm=$1 object=$2
fail() { echo "FAIL: $*"; exit 1; }
out=$("$bpfvm" verify "$object" --max-map-memory 64 2>&1) || fail "verify refused under the map cap: $out"
echo "$out"
echo "$out" | grep -q ": accepted (" || fail "verify did not accept"
out=$("$bpfvm" run "$object" --packet /dev/null --max-map-memory 64 2>&1) && fail "run passed the map cap: $out"
echo "$out"
echo "$out" | grep -q "above the cap of 64 bytes (VmOptions::max_map_memory_bytes, bpfvm --max-map-memory)" ||
  fail "run's refusal does not name the cap"
echo PASS
