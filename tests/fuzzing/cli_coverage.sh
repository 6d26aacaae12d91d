#!/bin/sh
# lcov tracefiles from `bpfvm fuzz --coverage-report` and `bpfvm run --coverage` must be accepted by
# genhtml (bounded by the test's timeout) and show lines run and branches never taken.
# Usage: cli_coverage.sh BPFVM OBJECT GENHTML WORKDIR
set -u
bpfvm=$1 object=$2 genhtml=$3 work=$4
rm -rf "$work" && mkdir -p "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

"$bpfvm" fuzz "$object" --prog xdp_classify --runs 20000 --seed 3 --artifacts "$work/artifacts" \
  --coverage-report "$work/fuzz.info" >"$work/fuzz.log" 2>&1 || fail "bpfvm fuzz: $(cat "$work/fuzz.log")"
for key in TN: SF: FN: FNDA: DA: BRDA: LF: LH: BRF: BRH: end_of_record; do
  grep -q "^$key" "$work/fuzz.info" || fail "fuzz.info has no $key record"
done
grep -q "planted_bug.bpf.c$" "$work/fuzz.info" || fail "fuzz.info does not name the C source"

printf '\377\377\377\377\377\377\002\000\000\000\000\001\010\006' >"$work/arp.bin"  # ARP: passes at once
"$bpfvm" run "$object" --prog xdp_classify --packet "$work/arp.bin" --coverage "$work/run.info" \
  >"$work/run.log" 2>&1 || fail "bpfvm run --coverage: $(cat "$work/run.log")"
grep -q "^BRDA:.*,-$" "$work/run.info" || fail "run.info shows no branch never reached"
grep -q "^DA:[0-9]*,0$" "$work/run.info" || fail "run.info shows no line not run"

for info in fuzz run; do
  timeout 60 "$genhtml" --branch-coverage --quiet -o "$work/html-$info" "$work/$info.info" \
    >"$work/genhtml-$info.log" 2>&1 || fail "genhtml $info: $(cat "$work/genhtml-$info.log")"
  [ -f "$work/html-$info/index.html" ] || fail "genhtml wrote no index.html"
  find "$work/html-$info" -name 'planted_bug.bpf.c.gcov.html' | grep -q . || fail "no source page"
done
echo "PASS"
