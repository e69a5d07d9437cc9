#!/usr/bin/env bash
# Instructions per request of each case of benches/parser.rs, from callgrind
# (deterministic): each case is run twice, with LO and HI iterations, and the
# difference of the two totals is divided by HI - LO, so the start-up cancels out.
# Usage: bash benches/callgrind_parser.sh [CASE...]  (default: every case)
set -euo pipefail
cd "$(dirname "$0")/.."
lo=${LO:-1000}
hi=${HI:-11000}
bin=$(cargo bench --bench parser --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "parser" and m.get("executable"):
        print(m["executable"])')
tmp=$(mktemp -d /tmp/hp-cg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
total() {
    BENCH_CALLGRIND=$1 BENCH_ITERS=$2 valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/out" "$bin" >/dev/null 2>"$tmp/err"
    grep -E '^(summary|totals):' "$tmp/out" | head -1 | awk '{print $2}'
}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(ours ours-split httparse pipelined pipelined-httparse)
for c in "${cases[@]}"; do
    a=$(total "$c" "$lo")
    b=$(total "$c" "$hi")
    echo "$c: $(( (b - a) / (hi - lo) )) instructions per request"
done
