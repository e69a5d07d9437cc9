#!/usr/bin/env bash
# Load benchmark: wirepost against nginx, one event-loop thread each, driven by wrk.
# Server kinds (BENCH_SERVERS): wirepost, wirepost-nowire (wire log off), wirepost-w2
# (`--workers 2`, on both cores: wrk's core is shared, there being only two), nginx, and
# the peers of benches/peers/ (see its README): hyper (hyper 1.x on one tokio thread)
# and minihttp (may_minihttp, one worker), both serving the page from memory; each
# is built on demand with cargo from its own Cargo.toml and lockfile.
#
# What it measures, for three scenarios:
#   plaintext   GET /plaintext -> "Hello, World!" (nginx: `return 200`, no file)
#   static      GET /static/hello.html, a 1441-byte page from www/static/ (wirepost
#               from its file cache, revalidated once a second; nginx opens and stats
#               it per request, having no open_file_cache; the peers from memory)
#   pipelined   GET /plaintext, 16 requests per write (benches/wrk/pipeline.lua)
# and for each run: requests/s, p99 latency (wrk --latency; for the pipelined runs
# the latency of a batch of 16, from pipeline.lua, as wrk's own percentiles are
# broken with pipelining), and the server's CPU time per request: utime+stime of
# the server's processes (/proc/PID/stat fields 14 and 15; for nginx master +
# worker) read before and after the wrk run, divided by the requests wrk counted.
#
# Why CPU per request: on this 2-core machine the server is pinned to core 0 and wrk
# to core 1. Without pipelining one wrk thread tops out near 80-100k req/s here, and
# so does a one-thread server (each request is a read and a write syscall on both
# sides, ~10 µs of mostly kernel time), so two decent servers post similar req/s
# and the difference between them hides in the noise; the CPU the server spent per
# request still tells them apart. The pipelined run takes most of the per-request
# syscall and wrk cost away, so its req/s shows the server's own ceiling (the
# "server CPU" column says how close to 100% of its core the server was). An A/A
# run (BENCH_SERVERS="nginx nginx") shows the noise floor: here about ±6% on req/s,
# ±5% on CPU/req, ±15% on p99.
#
# Method: for each scenario the servers alternate A B A B ... (A B C A B C ... with
# more; ROUNDS times each), so slow drift of the machine hits all alike. Every run
# starts a fresh server on a new port, checks its answers byte for byte, warms it up
# with BENCH_WARMUP seconds of the same load (not measured; 0: none), then measures.
# The final table gives medians over the rounds and the ratios of the first server
# to each other one (A/B, A/C, ...). It exits non-zero if a server does not answer
# within 10 s, answers wrongly, or returns errors under load.
#
#   bash benches/wrk/run.sh                                  # 10 s, 64 connections, 2 rounds
#   BENCH_DURATION=5 BENCH_CONNS=128 ROUNDS=3 bash benches/wrk/run.sh
#   BENCH_SERVERS="nginx nginx" bash benches/wrk/run.sh      # A/A: the noise floor
#   BENCH_SERVERS="wirepost wirepost-nowire nginx" BENCH_SCENARIOS=pipelined \
#     bash benches/wrk/run.sh                                # the wire log's cost
#   BENCH_SCENARIOS="pipelined" bash benches/wrk/run.sh      # a subset
#   BENCH_SERVERS="wirepost hyper minihttp nginx" bash benches/wrk/run.sh  # the peers
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-64}
ROUNDS=${ROUNDS:-2}
WARMUP=${BENCH_WARMUP:-2}
DEPTH=${BENCH_DEPTH:-16}
# Other processes on these 2 cores (a build, a test suite) skew a run. The machine's
# CPU pressure (/proc/pressure/cpu "some": time in which a runnable task waited for a
# CPU) tells: before each run wait up to BENCH_QUIET_WAIT s for a 1 s sample of it
# to fall to BENCH_MAX_PRESSURE %, and run again (BENCH_RETRIES times) a run during
# which the pressure exceeded it. The pressure of each run is printed; the table
# counts the runs kept although contended.
MAX_PRESSURE=${BENCH_MAX_PRESSURE:-5}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
RETRIES=${BENCH_RETRIES:-2}
read -r -a servers <<<"${BENCH_SERVERS:-wirepost nginx}"
read -r -a scenarios <<<"${BENCH_SCENARIOS:-plaintext static pipelined}"
[ "${#servers[@]}" -ge 2 ] || { echo "BENCH_SERVERS must name two servers or more" >&2; exit 2; }
for s in "${servers[@]}"; do
    case $s in wirepost | wirepost-nowire | wirepost-w2 | nginx | hyper | minihttp) ;; *) echo "unknown server: $s" >&2; exit 2 ;; esac
done
# Labels: the same server twice (an A/A run) gets "nginx" and "nginx-2".
labels=()
for s in "${servers[@]}"; do
    label=$s n=1
    while [[ " ${labels[*]} " == *" $label "* ]]; do
        n=$((n + 1))
        label="$s-$n"
    done
    labels+=("$label")
done

need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need wrk || missing+=(wrk)
need nginx || missing+=(nginx)
need curl || missing+=(curl)
need taskset || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx)
case " ${servers[*]} " in *" wirepost"*) cargo build --release -q ;; esac
# The peers: throwaway crates outside wirepost's workspace, each with its lockfile.
for peer in hyper minihttp; do
    case " ${servers[*]} " in *" $peer "*)
        cargo build --release --locked -q --manifest-path "$repo/benches/peers/$peer/Cargo.toml" ;;
    esac
done

CLK_TCK=$(getconf CLK_TCK)
tmp=$(mktemp -d)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() {
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts server $1 on port $2 pinned to core 0; sets server_pid. Fails after 10 s.
start_server() {
    local kind=$1 port=$2 i
    case $kind in
    wirepost | wirepost-nowire | wirepost-w2)
        # wirepost-nowire: the same binary with the wire log off (what recording costs).
        # wirepost-w2: two workers on cores 0 and 1 (wrk's core too, on this machine).
        local wire=on workers=1 cores=0
        [ "$kind" = wirepost-nowire ] && wire=off
        [ "$kind" = wirepost-w2 ] && workers=2 cores=0,1
        rm -rf "$tmp/data" && mkdir -p "$tmp/data"
        RUST_LOG=warn taskset -c "$cores" "$repo/target/release/wirepost" --addr "127.0.0.1:$port" \
            --workers "$workers" --www "$repo/www" --data "$tmp/data" --wire-log=$wire \
            >"$tmp/server.out" 2>"$tmp/server.err" &
        server_pid=$!
        ;;
    nginx)
        local dir="$tmp/nginx"
        rm -rf "$dir" && mkdir -p "$dir"
        sed -e "s|@PORT@|$port|g" -e "s|@TMP@|$dir|g" -e "s|@STATIC@|$repo/www/static|g" \
            "$repo/benches/wrk/nginx.conf" >"$dir/nginx.conf"
        taskset -c 0 "$nginx_bin" -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" \
            >"$tmp/server.out" 2>"$tmp/server.err" &
        server_pid=$!
        ;;
    hyper | minihttp)
        # The page is read once at start and served from memory.
        taskset -c 0 "$repo/benches/peers/$kind/target/release/peer-$kind" --addr "127.0.0.1:$port" \
            --file "$repo/www/static/hello.html" >"$tmp/server.out" 2>"$tmp/server.err" &
        server_pid=$!
        ;;
    esac
    for i in $(seq 100); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "$kind exited at start:" >&2
            cat "$tmp/server.out" "$tmp/server.err" "$tmp/nginx/error.log" >&2 2>/dev/null || true
            server_pid=""
            return 1
        fi
        if [ "$kind" != nginx ] && ! grep -q "http://127.0.0.1:$port/" "$tmp/server.out"; then
            sleep 0.1
            continue
        fi
        if curl -sf -o /dev/null "http://127.0.0.1:$port/plaintext"; then
            return 0
        fi
        sleep 0.1
    done
    echo "$kind did not answer on port $port within 10 s" >&2
    cat "$tmp/server.out" "$tmp/server.err" >&2 || true
    return 1
}

# The server's processes: the one started, plus its children (nginx's worker).
server_pids() { echo "$server_pid" $(pgrep -P "$server_pid" || true); }

# utime+stime in clock ticks, summed over the given pids (threads included).
cpu_ticks() {
    local pid total=0
    for pid in "$@"; do
        # Drop "pid (comm) " first so a comm with spaces cannot shift the fields:
        # then utime and stime (fields 14 and 15 of the line) are 12th and 13th.
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

# Microseconds in which some runnable task waited for a CPU (0 without PSI).
psi_total() { awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo 0; }
# Waits until a 1 s sample of the pressure is at most MAX_PRESSURE %.
wait_for_quiet() {
    local waited=0 a b
    while :; do
        a=$(psi_total)
        sleep 1
        b=$(psi_total)
        [ $(((b - a) / 10000)) -le "$MAX_PRESSURE" ] && return 0
        waited=$((waited + 1))
        if [ "$waited" -ge "$QUIET_WAIT" ]; then
            echo "(the machine is still busy after ${QUIET_WAIT}s: CPU pressure $(((b - a) / 10000))%; running anyway)"
            return 0
        fi
    done
}

# The answers must be right before their speed means anything: a 200 and the exact
# bytes (no trailing newline) for both.
check_answers() {
    local port=$1
    curl -sf -o "$tmp/plaintext" "http://127.0.0.1:$port/plaintext"
    printf 'Hello, World!' | cmp -s - "$tmp/plaintext" ||
        { echo "/plaintext answered: $(cat "$tmp/plaintext")" >&2; return 1; }
    curl -sf -o "$tmp/hello.html" "http://127.0.0.1:$port/static/hello.html"
    cmp -s "$tmp/hello.html" "$repo/www/static/hello.html" ||
        { echo "/static/hello.html differs from www/static/hello.html" >&2; return 1; }
}

wrk_cmd() { # scenario port duration
    local sc=$1 port=$2 secs=$3
    local args=(-t1 "-c$CONNS" "-d${secs}s" --latency)
    case $sc in
    plaintext) args+=("http://127.0.0.1:$port/plaintext") ;;
    static) args+=("http://127.0.0.1:$port/static/hello.html") ;;
    pipelined) args+=(-s "$repo/benches/wrk/pipeline.lua" "http://127.0.0.1:$port/plaintext" -- "$DEPTH") ;;
    *) echo "unknown scenario: $sc" >&2; return 2 ;;
    esac
    # A server that stalls connections keeps wrk waiting past -d (seen with hyper,
    # pipelined: minutes): SIGINT after 30 s more makes wrk print what it has.
    local rc=0
    PIPELINE_DEPTH=$DEPTH WRK_CONNECTIONS=$CONNS timeout -s INT $((secs + 30)) \
        taskset -c 1 wrk "${args[@]}" || rc=$?
    if [ "$rc" = 124 ]; then
        echo "($sc: wrk was still waiting $((secs + 30)) s after starting: the server stalled some connections; figures are from what it got)" >&2
    elif [ "$rc" != 0 ]; then
        return "$rc"
    fi
}

echo "wrk load: ${servers[*]}; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); $("$nginx_bin" -v 2>&1 | cut -d' ' -f3)"
peer_versions=""
for peer in hyper minihttp; do
    case " ${servers[*]} " in *" $peer "*)
        # The versions the lockfile pins: "hyper 1.13.0", "may_minihttp 0.1.11".
        crate=$peer && [ "$peer" = minihttp ] && crate=may_minihttp
        peer_versions+=" $(awk -v c="$crate" '$1 == "name" && $3 == "\"" c "\"" { getline; gsub("\"", "", $3); print c, $3 }' \
            "$repo/benches/peers/$peer/Cargo.lock");" ;;
    esac
done
if [ -n "$peer_versions" ]; then echo "peers:${peer_versions%;}"; fi
echo "servers on core 0, wrk -t1 -c$CONNS -d${DURATION}s on core 1; warm-up ${WARMUP}s; $ROUNDS rounds; pipelining depth $DEPTH"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); runs with CPU pressure above ${MAX_PRESSURE}% are run again (up to $RETRIES times)"
results="$tmp/results.tsv"
: >"$results"
for sc in "${scenarios[@]}"; do
    for round in $(seq "$ROUNDS"); do
        for which in "${!servers[@]}"; do
            kind=${servers[$which]} label=${labels[$which]}
            for attempt in $(seq $((RETRIES + 1))); do
                wait_for_quiet
                port=$(free_port)
                start_server "$kind" "$port"
                check_answers "$port"
                # BENCH_WARMUP=0: no warm-up (wrk refuses -d0s).
                if [ "$WARMUP" != 0 ]; then wrk_cmd "$sc" "$port" "$WARMUP" >/dev/null; fi
                read -r -a pids <<<"$(server_pids)"
                p0=$(psi_total)
                t0=$(cpu_ticks "${pids[@]}")
                wrk_cmd "$sc" "$port" "$DURATION" >"$tmp/wrk.out"
                t1=$(cpu_ticks "${pids[@]}")
                p1=$(psi_total)
                stop_server
                pressure=$(python3 -c "print(round(($p1 - $p0) / ($DURATION * 1e4)))")
                [ "$pressure" -le "$MAX_PRESSURE" ] && break
                if [ "$attempt" -le "$RETRIES" ]; then
                    echo "$sc $label round $round: other processes competed for the CPU (pressure $pressure%); running it again"
                fi
            done
            row=$(python3 "$repo/benches/wrk/report.py" run "$tmp/wrk.out" $((t1 - t0)) "$CLK_TCK" "$DURATION")
            printf '%s\t%s\t%s\t%s\t%s\n' "$sc" "$label" "$round" "$row" "$pressure" >>"$results"
            IFS=$'\t' read -r reqs rps p99 cpu pct errs <<<"$row"
            printf '%-10s %-10s round %s: %9s req/s  p99 %7s ms  %6s µs CPU/req  (server %3s%% of a core; %s requests, %s socket errors; CPU pressure %s%%)\n' \
                "$sc" "$label" "$round" "$rps" "$p99" "$cpu" "$pct" "$reqs" "$errs" "$pressure"
        done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# One table: the first server against each of the others.
python3 "$repo/benches/wrk/report.py" table "$results" "${labels[@]}" "$MAX_PRESSURE"
