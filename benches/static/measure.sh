#!/usr/bin/env bash
# Instructions (callgrind) and syscalls (strace -c -f) per `GET /static/hello.html`
# for a wirepost binary: docs/performance.md, "Static files from memory".
#
#   benches/static/measure.sh [BINARY] [PATH]
#
# Each figure is (total of a run of N1 requests − total of a run of N0) / (N1 − N0),
# on fresh servers (`--workers 1`, RUST_LOG=warn, wire log on as by default), one
# keep-alive connection, one request at a time (benches/static/keepalive.py), so
# start-up, the first (cold) request and shutdown cancel out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/target/release/wirepost}
path=${2:-/static/hello.html}
N0=${N0:-500}
N1=${N1:-20500}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run TOOL N: start the server under TOOL, send N requests, stop it (SIGINT).
run() {
    local tool=$1 n=$2 out=$3 port
    port=$((20000 + RANDOM % 20000))
    rm -rf "$tmp/data"; mkdir -p "$tmp/data"
    case $tool in
    callgrind) RUST_LOG=warn valgrind -q --tool=callgrind --callgrind-out-file="$out" \
        "$bin" --addr "127.0.0.1:$port" --workers 1 --www "$repo/www" --docs "$repo/docs" \
        --data "$tmp/data" >/dev/null 2>"$tmp/err" & ;;
    strace) RUST_LOG=warn strace -f -c -o "$out" \
        "$bin" --addr "127.0.0.1:$port" --workers 1 --www "$repo/www" --docs "$repo/docs" \
        --data "$tmp/data" >/dev/null 2>"$tmp/err" & ;;
    esac
    local pid=$!
    for _ in $(seq 300); do
        python3 - "$port" <<'PY' 2>/dev/null && break
import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
PY
        sleep 0.1
    done
    python3 "$here/keepalive.py" "127.0.0.1:$port" "$path" "$n"
    kill -INT "$pid"; wait "$pid" || true
}

ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }

run callgrind "$N0" "$tmp/cg0"; run callgrind "$N1" "$tmp/cg1"
i0=$(ir "$tmp/cg0"); i1=$(ir "$tmp/cg1")
run strace "$N0" "$tmp/st0"; run strace "$N1" "$tmp/st1"
echo "binary: $bin  path: $path  N0=$N0 N1=$N1"
echo "user-space instructions per request: $(( (i1 - i0) / (N1 - N0) ))"
# strace -c: "% time, seconds, usecs/call, calls, [errors], syscall"; calls is field 4.
python3 - "$tmp/st0" "$tmp/st1" "$N0" "$N1" <<'PY'
import sys
def table(path):
    t = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[3].isdigit():
            t[f[-1]] = int(f[3])
    return t
a, b = table(sys.argv[1]), table(sys.argv[2])
n = int(sys.argv[4]) - int(sys.argv[3])
print(f"syscalls per request: {(b.get('total', 0) - a.get('total', 0)) / n:.2f}")
for name in sorted(b, key=lambda k: -(b[k] - a.get(k, 0))):
    d = (b[name] - a.get(name, 0)) / n
    if name != "total" and d >= 0.01:
        print(f"  {name}: {d:.2f}")
PY
