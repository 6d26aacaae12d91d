#!/bin/sh
# `bpfvm fuzz` must find the planted bug within 200,000 runs of seed 1 (a count, not a time), write a
# reproducer that `bpfvm run --packet` replays to XDP_ABORTED, and the example libFuzzer harness must
# abort on that reproducer.
# Usage: cli_planted_bug.sh BPFVM OBJECT HARNESS WORKDIR
set -u
bpfvm=$1 object=$2 harness=$3 work=$4
rm -rf "$work" && mkdir -p "$work" || exit 1
fail() { echo "FAIL: $*"; cat "$work/fuzz.log" 2>/dev/null; exit 1; }

"$bpfvm" fuzz "$object" --prog xdp_classify --property 'retval!=0' --runs 200000 --seed 1 \
  --artifacts "$work/artifacts" --corpus "$work/corpus" >"$work/fuzz.log" 2>&1
status=$?
cat "$work/fuzz.log"
[ "$status" = 1 ] || fail "bpfvm fuzz exited $status, want 1 (a finding)"
grep -q "^FINDING property: property 'retval!=0' violated: retval 0" "$work/fuzz.log" || fail "no property finding"
repro=$(ls "$work"/artifacts/property-* 2>/dev/null | head -n 1)
[ -n "$repro" ] || fail "no reproducer in $work/artifacts"
ls "$work"/corpus/* >/dev/null 2>&1 || fail "no corpus written"

"$bpfvm" run "$object" --prog xdp_classify --packet "$repro" >"$work/replay.log" 2>&1 || fail "replay failed"
grep -q "^r0 = 0x0$" "$work/replay.log" || fail "replay did not return XDP_ABORTED: $(cat "$work/replay.log")"

"$harness" "$repro" >"$work/harness.log" 2>&1 && fail "the harness did not abort on the reproducer"
grep -q "property 'retval!=0' violated" "$work/harness.log" || fail "harness: $(cat "$work/harness.log")"
first=$(ls "$work"/corpus/* | head -n 1)
"$harness" "$first" >/dev/null 2>&1 || fail "the harness aborted on a corpus input"

# The same seed and run count give the same runs.
"$bpfvm" fuzz "$object" --prog xdp_classify --property 'retval!=0' --runs 200000 --seed 1 \
  --artifacts "$work/artifacts2" >"$work/fuzz2.log" 2>&1
a=$(grep '^done:' "$work/fuzz.log" | sed 's/ in .*//') b=$(grep '^done:' "$work/fuzz2.log" | sed 's/ in .*//')
[ "$a" = "$b" ] || fail "not deterministic: '$a' vs '$b'"
cmp -s "$repro" "$(ls "$work"/artifacts2/property-* | head -n 1)" || fail "different reproducer for the same seed"
echo "PASS"
