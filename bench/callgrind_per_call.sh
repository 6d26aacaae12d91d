#!/bin/bash
# Instructions per call of one function under callgrind (load-independent, unlike bench timings):
# runs one benchmark of BIN under valgrind and divides FUNC's inclusive Ir by its number of calls.
#   bench/callgrind_per_call.sh build/bench/bench_per_call 'BM_cpp_run_reused/plain_jit$' \
#       'bpfvm::Program::run(bpfvm::RunInput const&, bpfvm::RunOutput&) const'
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BENCH_BINARY BENCHMARK_FILTER FUNCTION_NAME_PREFIX" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$1" --benchmark_filter="$2" --benchmark_min_time=0.3 >/dev/null 2>&1
python3 - "$out" "$3" "$2" <<'PY'
import re, sys
path, func, label = sys.argv[1:]
names, calls, ir, callee, pending = {}, 0, 0, None, False
for line in open(path):
    m = re.match(r'^(c?fn)=\((\d+)\)(?: (.*))?$', line.rstrip('\n'))
    if m:
        kind, ident, name = m.groups()
        if name: names[ident] = name
        callee = names.get(ident) if kind == 'cfn' else None
        continue
    if line.startswith('calls='):
        pending = callee is not None and callee.startswith(func)
        if pending: calls += int(line.split('=')[1].split()[0])
        continue
    if pending:  # the line after calls= carries the call's inclusive cost
        ir += int(line.split()[1])
        pending = False
print(f"{label}: {calls} calls, {ir / max(calls, 1):.0f} Ir per call")
PY
