#!/usr/bin/env bash
# Soak with faults (issue 6): a mixed wrk load for SOAK_MINUTES while the server is
# killed with SIGKILL and started again on the same data directory and port every
# SOAK_INTERVAL seconds; then every write the clients saw acknowledged must be there.
#
#   bash benches/soak/run.sh                                 # 10 minutes, a kill a minute
#   SOAK_MINUTES=2 SOAK_INTERVAL=30 bash benches/soak/run.sh # a quick one
#
# The load (benches/soak/soak.lua, wrk -tN -cN: one connection per wrk thread, so
# every answer belongs to the request that thread sent last): GET /plaintext,
# GET /products/N/, GET /cart/, POST /cart/add/ and POST /session/ (each thread on its
# own session cookie), POST /upload/ (a small multipart file, unique name and
# contents). Every acknowledged write (302 of a cart add or session set, 201 of an
# upload, which the server sends only once the write is fsynced) is appended to
# $SOAK_OUT/acks/acks-<thread>.log.
#
# Faults: every SOAK_INTERVAL s, `kill -9` the server, list the temporary files the
# crash left in the data dir (uploads/.tmp-<pid>-<n> of unfinished uploads,
# store/snapshot-N.jsonl.tmp of an unfinished snapshot), start it again at once on the
# same --data and port (wrk reconnects by itself; requests in flight at the kill get
# no answer and count as socket errors), and check that the files of that crash are
# gone once it listens (the server removes them at start). After the load: one last
# kill -9 and restart, then benches/soak/check.py GETs every acknowledged session
# (cart and value) and upload (byte for byte) from the restarted server and finds no
# temporary file left; then the server logs of every run are searched for panics.
#
# Pinned like benches/wrk/run.sh: the server (--workers 1, RUST_LOG=warn) on core 0,
# wrk on core 1 (SOAK_PIN=0: unpinned). The data dir is on the disk, under SOAK_OUT
# (default target/soak/; it is deleted first). The binary is copied there, so a
# rebuild of the tree during the soak does not change what is being tested.
#
# Exits non-zero if a write acknowledged is missing or wrong, an answer had an
# unexpected status, a temporary file outlived a restart, a server failed to start,
# or any log shows a panic.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
here=$repo/benches/soak

MINUTES=${SOAK_MINUTES:-10}
INTERVAL=${SOAK_INTERVAL:-60}
CONNS=${SOAK_CONNS:-16}
OUT=${SOAK_OUT:-$repo/target/soak}
PIN=${SOAK_PIN:-1}

for tool in wrk python3 curl taskset; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is needed" >&2; exit 2; }
done
total=$(python3 -c "print(int(float('$MINUTES') * 60))")
[ "$total" -gt 0 ] && [ "$INTERVAL" -gt 0 ] || { echo "soak: bad SOAK_MINUTES/SOAK_INTERVAL" >&2; exit 2; }

cargo build --release -q
rm -rf "$OUT"
mkdir -p "$OUT/data" "$OUT/acks" "$OUT/logs"
cp target/release/wirepost "$OUT/wirepost"
data=$OUT/data
fstype=$(stat -f -c %T "$data")
echo "soak: ${MINUTES} min, kill -9 every ${INTERVAL} s, wrk -t$CONNS -c$CONNS; data dir $data ($fstype)"
case $fstype in tmpfs | ramfs) echo "soak: warning: the data dir is on $fstype, where fsync costs nothing" >&2 ;; esac

if [ "$PIN" = 1 ]; then pin_server=(taskset -c 0); pin_wrk=(taskset -c 1); else pin_server=(); pin_wrk=(); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

server_pid=""
wrk_pid=""
gen=0
cleanup() {
    [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
    return 0
}
trap cleanup EXIT

# Start the server on $port and wait until it listens. Sets server_pid, gen.
start_server() {
    local tries
    for tries in 1 2 3 4 5; do
        gen=$((gen + 1))
        local t0 now
        t0=$(date +%s.%N)
        RUST_LOG=warn "${pin_server[@]}" "$OUT/wirepost" --addr "127.0.0.1:$port" --workers 1 \
            --www "$repo/www" --data "$data" \
            >"$OUT/logs/stdout-$gen.txt" 2>"$OUT/logs/server-$gen.log" &
        server_pid=$!
        local i
        for i in $(seq 1 300); do
            if grep -q "http://" "$OUT/logs/stdout-$gen.txt" 2>/dev/null; then
                now=$(date +%s.%N)
                start_ms=$(python3 -c "print(round(($now - $t0) * 1000))")
                return 0
            fi
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "soak: server run $gen did not start:" >&2
        cat "$OUT/logs/server-$gen.log" >&2
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
        sleep 1
    done
    echo "soak: the server would not start" >&2
    exit 1
}

# Temporary files in the data dir, one per line.
temp_files() {
    find "$data/uploads" "$data/store" -maxdepth 1 \( -name '.tmp-*' -o -name '*.tmp' \) 2>/dev/null | sort
}

restarts=0
temp_total=0
temp_max=0
stray=0
foreign_pid=0
downtimes=()

# kill -9, list the crash's temporary files, restart, check they are gone.
crash_and_restart() {
    local victim=$server_pid
    { kill -9 "$victim"; wait "$victim"; } 2>/dev/null || true
    server_pid=""
    local left n f
    left=$(temp_files)
    n=$(printf '%s' "$left" | grep -c . || true)
    temp_total=$((temp_total + n))
    [ "$n" -gt "$temp_max" ] && temp_max=$n
    # An upload's temp file carries its server's pid: one from an earlier run would
    # mean a start did not clean up.
    for f in $left; do
        case $(basename "$f") in
            .tmp-*) [ "$(basename "$f" | cut -d- -f2)" = "$victim" ] || foreign_pid=$((foreign_pid + 1)) ;;
        esac
    done
    start_server
    restarts=$((restarts + 1))
    downtimes+=("$start_ms")
    for f in $left; do
        if [ -e "$f" ]; then
            echo "soak: $f, left by the crash, is still there after the restart" >&2
            stray=$((stray + 1))
        fi
    done
    printf 'soak: t=%4ss kill -9 #%d (pid %s): %d temp files left, restarted in %s ms\n' \
        "$(($(date +%s) - t_start))" "$restarts" "$victim" "$n" "$start_ms"
}

start_server
t_start=$(date +%s)
SOAK_ACKS=$OUT/acks "${pin_wrk[@]}" wrk -t"$CONNS" -c"$CONNS" -d"${total}s" --timeout 5s \
    --latency -s "$here/soak.lua" "$url" >"$OUT/wrk.txt" 2>&1 &
wrk_pid=$!

next=$INTERVAL
while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 1
    elapsed=$(($(date +%s) - t_start))
    if [ "$elapsed" -ge "$next" ] && [ "$next" -le $((total - 3)) ] && kill -0 "$wrk_pid" 2>/dev/null; then
        crash_and_restart
        next=$((next + INTERVAL))
    fi
done
wrk_status=0
wait "$wrk_pid" || wrk_status=$?
wrk_pid=""
cat "$OUT/wrk.txt"
[ "$wrk_status" = 0 ] || { echo "soak: wrk failed ($wrk_status)" >&2; exit 1; }

echo "soak: load over; the last kill -9 and restart before checking"
crash_and_restart
check_status=0
python3 "$here/check.py" --url "$url" --acks "$OUT/acks" --data "$data" | tee "$OUT/check.txt" || check_status=$?
stats=$(curl -s "$url/__stats" || true)
{ kill -9 "$server_pid"; wait "$server_pid"; } 2>/dev/null || true
server_pid=""

panics=$(cat "$OUT"/logs/server-*.log | grep -ci "panic" || true)
torn=$(cat "$OUT"/logs/server-*.log | grep -c "cut short" || true)
errors=$(cat "$OUT"/logs/server-*.log | grep -c "ERROR" || true)
requests=$(grep -Eo '^ *[0-9]+ requests in' "$OUT/wrk.txt" | grep -Eo '[0-9]+' || echo "?")
rps=$(grep -Eo 'Requests/sec: *[0-9.]+' "$OUT/wrk.txt" | grep -Eo '[0-9.]+$' || echo "?")
sockerr=$(grep -E 'Socket errors' "$OUT/wrk.txt" | sed 's/^ *//' || echo "Socket errors: none")
unexpected=$(grep -Eo '[0-9]+ unexpected answers' "$OUT/wrk.txt" | grep -Eo '^[0-9]+' || echo "?")
acked=$(grep -Eo 'acknowledged writes: [0-9]+ \([^)]*\)' "$OUT/wrk.txt" || echo "?")
missing=$(grep -Eo 'missing=[0-9]+' "$OUT/check.txt" | grep -Eo '[0-9]+' || echo "?")
left_after=$(temp_files | grep -c . || true)
data_size=$(du -sh "$data" | cut -f1)
uploads_n=$(find "$data/uploads" -maxdepth 1 -type f ! -name '.tmp-*' | wc -l)

echo
echo "== soak summary =="
echo "duration:        ${MINUTES} min, kill -9 every ${INTERVAL} s, wrk -t$CONNS -c$CONNS (pinned: $PIN)"
echo "requests:        $requests ($rps req/s over the run, restarts included); unexpected answers: $unexpected"
echo "                 $sockerr (requests cut off by the kills)"
echo "acked writes:    $acked"
grep -E '^check: (cart|temporary)' "$OUT/check.txt" | sed 's/^check: /verified:        /'
echo "missing:         $missing"
echo "restarts:        $restarts (kill -9), time to listen again: ${downtimes[*]} ms"
echo "temp files:      $temp_total left by the crashes (at most $temp_max at one crash), $foreign_pid from an earlier run, $stray still there after a restart, $left_after after the final restart"
echo "server logs:     $gen runs, $panics lines mentioning a panic, $errors ERROR lines, $torn torn log tails dropped at start"
echo "data dir:        $data_size, $uploads_n stored uploads; last server's store: $stats"

fail=0
[ "$check_status" = 0 ] || { echo "soak: FAIL: acknowledged writes missing or wrong" >&2; fail=1; }
[ "$unexpected" = 0 ] || { echo "soak: FAIL: unexpected answers" >&2; fail=1; }
[ "$panics" = 0 ] || { echo "soak: FAIL: a panic in the logs" >&2; fail=1; }
[ "$stray" = 0 ] && [ "$foreign_pid" = 0 ] && [ "$left_after" = 0 ] ||
    { echo "soak: FAIL: stray temporary files" >&2; fail=1; }
[ "$fail" = 0 ] && echo "soak: PASS"
exit "$fail"
