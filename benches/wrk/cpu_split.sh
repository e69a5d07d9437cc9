#!/usr/bin/env bash
# User and kernel CPU per pipelined /plaintext request of one server: utime and stime
# of its process (/proc/PID/stat fields 14 and 15, all threads) over one wrk run
# (pipelined 16 deep, benches/wrk/pipeline.lua), divided by the requests wrk counted.
# The server runs on core 0, wrk on core 1 (as in benches/wrk/run.sh); a 2 s warm-up
# first. It tells where the time of a request goes (the syscalls of a batch are the
# same for every server: strace -c -f shows one recvfrom and one sendto per batch).
#
#   bash benches/wrk/cpu_split.sh NAME "COMMAND with @PORT@" [SECONDS]
#   bash benches/wrk/cpu_split.sh wirepost "target/release/wirepost --addr 127.0.0.1:@PORT@ --www www --data /tmp/cpu-split-data"
#   bash benches/wrk/cpu_split.sh minihttp "benches/peers/minihttp/target/release/peer-minihttp --addr 127.0.0.1:@PORT@ --file www/static/hello.html"
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1 cmd=$2 secs=${3:-6}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf /tmp/cpu-split-data && mkdir -p /tmp/cpu-split-data
# shellcheck disable=SC2086 # the command is split into words on purpose
RUST_LOG=warn taskset -c 0 ${cmd//@PORT@/$port} >/tmp/cpu-split.out 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/plaintext" && break; sleep 0.1; done
url=http://127.0.0.1:$port/plaintext
ticks() { sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12, $13}'; }
PIPELINE_DEPTH=16 taskset -c 1 wrk -t1 -c64 -d2s -s benches/wrk/pipeline.lua "$url" -- 16 >/dev/null
read -r u0 s0 < <(ticks)
out=$(PIPELINE_DEPTH=16 taskset -c 1 wrk -t1 -c64 "-d${secs}s" -s benches/wrk/pipeline.lua "$url" -- 16)
read -r u1 s1 < <(ticks)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
python3 -c "
tick = 1e9 / $(getconf CLK_TCK)
u, s, n = ($u1 - $u0) * tick, ($s1 - $s0) * tick, $reqs
print(f'$name: {n / $secs:,.0f} req/s  user {u / n:.0f} ns/req  kernel {s / n:.0f} ns/req  total {(u + s) / n:.0f} ns/req')"
