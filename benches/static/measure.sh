#!/usr/bin/env bash
# Instructions (callgrind) and syscalls (strace -c -f) per `GET /static/hello.html`
# for a wirepost binary: docs/performance.md, "Static files from memory".
#
#   benches/static/measure.sh [BINARY] [PATH]
#
# Two runs per tool on fresh servers (`--workers 1`, RUST_LOG=warn, wire log on as
# by default): one serves 200 requests on one keep-alive connection, the other 200
# and then N (10,000) on a second one (benches/static/keepalive.py, one request at a
# time); the difference over N cancels start-up, warm-up and shutdown.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/target/release/wirepost}
path=${2:-/static/hello.html}
N=${N:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run TOOL OUT PORT COUNT...: the server under TOOL, one connection per COUNT.
run() {
    local tool=$1 out=$2 port=$3
    shift 3
    rm -rf "$tmp/data" && mkdir -p "$tmp/data"
    local args=(--addr "127.0.0.1:$port" --workers 1 --www "$repo/www" --docs "$repo/docs" --data "$tmp/data")
    if [ "$tool" = strace ]; then
        RUST_LOG=warn strace -f -c -o "$out" "$bin" "${args[@]}" >"$tmp/out" 2>"$tmp/err" &
    else
        RUST_LOG=warn valgrind -q --tool=callgrind --callgrind-out-file="$out" "$bin" "${args[@]}" >"$tmp/out" 2>"$tmp/err" &
    fi
    local pid=$!
    for _ in $(seq 150); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.2; done
    for n in "$@"; do
        timeout 600 python3 "$here/keepalive.py" "127.0.0.1:$port" "$path" "$n" || echo "client failed" >&2
    done
    # Under strace, stop the server (strace's child), not strace: strace ignores it.
    local target
    target=$(pgrep -P "$pid" | head -1)
    kill -INT "${target:-$pid}"
    wait "$pid"
}

run callgrind "$tmp/cg0" 19201 200
run callgrind "$tmp/cg1" 19202 200 "$N"
run strace "$tmp/st0" 19203 200
run strace "$tmp/st1" 19204 200 "$N"
ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }
echo "binary: $bin  path: $path  N=$N"
echo "user-space instructions per request: $(( ($(ir "$tmp/cg1") - $(ir "$tmp/cg0")) / N ))"
# strace -c: "% time, seconds, usecs/call, calls, [errors], syscall"; calls is field 4.
python3 - "$tmp/st0" "$tmp/st1" "$N" <<'PY'
import sys
def table(path):
    t = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[3].isdigit():
            t[f[-1]] = int(f[3])
    return t
a, b, n = table(sys.argv[1]), table(sys.argv[2]), int(sys.argv[3])
print(f"syscalls per request: {(b.get('total', 0) - a.get('total', 0)) / n:.2f}")
for name in sorted(b, key=lambda k: -(b[k] - a.get(k, 0))):
    d = (b[name] - a.get(name, 0)) / n
    if name != "total" and d >= 0.01:
        print(f"  {name}: {d:.2f}")
PY
