#!/usr/bin/env bash
# Bounds benchmarks of issue 11 ("Measure"): not timed tests, figures to report.
#
#   flood   500,000 cookieless POST /session/ (action=set&key=n&value=1: each creates
#           a session), wrk -t1 -c64 on core 1, the server (--workers 1, RUST_LOG=warn,
#           default --max-sessions 100000) on core 0, on a fresh data dir on the disk.
#           Reports the server's RSS before and after (VmRSS, and VmHWM: the peak), the
#           store's files (bytes on disk: logs and snapshot), and the live sessions.
#   purge   300,000 sessions made to expire together (action=expiry&seconds=40), and
#           one live session; the purge runs every 60 s (--purge-every 60, so the
#           first purge finds all 300,000 expired). A probe (probe.py) sends GET
#           /session/ with the live session's cookie, one request at a time, from
#           before the purge to after it; reports the probe's worst latency, its p99,
#           how many requests took over 5 ms, and how long the purge took (from the
#           server's log line).
#
#   bash benches/bounds/run.sh              # both
#   BENCH_SCENARIOS=flood bash benches/bounds/run.sh
#   BENCH_BIN=/path/to/other/wirepost ...   # another build (e.g. before the change;
#                                           # the purge scenario needs --purge-every)
#   BENCH_FLOOD=500000 BENCH_EXPIRED=300000 # the counts
#   BENCH_PIN=0 ...                         # the server unpinned
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
here=$repo/benches/bounds
SCENARIOS=${BENCH_SCENARIOS:-flood purge}
FLOOD=${BENCH_FLOOD:-500000}
EXPIRED=${BENCH_EXPIRED:-300000}
PORT=${BENCH_PORT:-8093}
BIN=${BENCH_BIN:-}
# BENCH_PIN=0: the server's threads on any core (default: all on core 0, wrk and the
# probe on core 1).
PIN="taskset -c 0"; [ "${BENCH_PIN:-1}" = 0 ] && PIN=
if [ -z "$BIN" ]; then
    cargo build --release --quiet
    BIN=$repo/target/release/wirepost
fi
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
base=${BENCH_DATA:-$repo/target/bench-bounds}
fs=$(stat -f -c %T "$(dirname "$base")")
case $fs in tmpfs|ramfs) echo "refusing $fs: fsync would cost nothing" >&2; exit 1 ;; esac

pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap stop EXIT

start() { # start DIR FLAGS...: a fresh server on a fresh data dir
    local dir=$1; shift
    rm -rf "$dir"; mkdir -p "$dir/data"
    RUST_LOG=${BENCH_RUST_LOG:-warn,wirepost::app=info} $PIN "$BIN" \
        --addr 127.0.0.1:$PORT --workers 1 --data "$dir/data" --www "$repo/www" "$@" \
        >"$dir/stdout" 2>"$dir/stderr" &
    pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$PORT/plaintext" >/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start:" >&2; cat "$dir/stderr" >&2; exit 1
}
rss() { awk '/^VmRSS/ {print $2}' /proc/$pid/status; }   # KiB
hwm() { awk '/^VmHWM/ {print $2}' /proc/$pid/status; }
stats() { curl -sf "http://127.0.0.1:$PORT/__stats"; }

posts() { # posts N BODY: N cookieless POSTs through wrk, checked
    local n=$1 body=$2 out=$3
    # limited.lua stops wrk's thread after N answers, but wrk's main thread sleeps
    # out -d: once the store's record count stands still, SIGINT makes wrk report.
    BENCH_SCRIPT_DIR=$here BENCH_BODY=$body BENCH_LIMIT=$n taskset -c 1 wrk -t1 -c64 -d600s \
        -s "$here/limited.lua" "http://127.0.0.1:$PORT" >"$out" &
    local wrk=$! last=-1 now
    while kill -0 $wrk 2>/dev/null; do
        sleep 1
        now=$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["records"])')
        if [ "$now" = "$last" ]; then kill -INT $wrk 2>/dev/null || true; fi
        last=$now
    done
    wait $wrk || true
    grep -q "cookieless posts: .* 0 other" "$out" || { cat "$out" >&2; exit 1; }
    grep "cookieless posts" "$out"
}

if [[ " $SCENARIOS " == *" flood "* ]]; then
    dir=$base/flood
    start "$dir"
    before=$(rss)
    posts "$FLOOD" "action=set&key=n&value=1" "$dir/wrk.out"
    sleep 2
    after=$(rss); peak=$(hwm)
    disk=$(du -sb "$dir/data/store" | cut -f1)
    live=$(stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s.get("sessions",{}).get("live","n/a"), s["store"]["live_records"], s["store"]["log_bytes"])')
    rate=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.out")
    echo "flood: $FLOOD cookieless POSTs at $rate req/s; RSS ${before} KiB before, ${after} KiB after, peak ${peak} KiB; store on disk $disk bytes; sessions live / store records / log bytes: $live"
    ls -l "$dir/data/store" | sed 's/^/  /'
    stop
fi

if [[ " $SCENARIOS " == *" purge "* ]]; then
    dir=$base/purge
    start "$dir" --max-sessions $((EXPIRED + 1000)) --purge-every 60
    t0=$(date +%s.%N)
    sid=$(curl -sf -D - -o /dev/null -d 'action=set&key=probe&value=1' \
        "http://127.0.0.1:$PORT/session/" | sed -n 's/^Set-Cookie: sessionid=\([0-9a-f]*\);.*/\1/p' | tr -d '\r')
    [ -n "$sid" ] || { echo "no session for the probe" >&2; exit 1; }
    posts "$EXPIRED" "action=expiry&seconds=40" "$dir/wrk.out"
    made=$(date +%s.%N)
    echo "purge: $EXPIRED sessions made in $(python3 -c "print(round($made-$t0,1))") s; waiting for the first purge (60 s after start)"
    # Probe from 45 s after start (all expired) to 75 s (the purge is done).
    sleep "$(python3 -c "print(max(0, 45 - ($made - $t0)))")"
    taskset -c 1 python3 "$here/probe.py" $PORT "$sid" 30 "$dir/probe.log"
    grep "purged" "$dir/stderr" | sed 's/^/  server: /'
    live=$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin).get("sessions",{}).get("live","n/a"))')
    python3 "$here/report.py" "$dir/probe.log" "$dir/stderr" "$live"
    stop
fi
