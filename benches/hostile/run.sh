#!/usr/bin/env bash
# Slow and hostile clients against wirepost while a normal client keeps measuring
# (issue 6 item 2). Builds the release binary, then runs benches/hostile/hostile.py,
# which for each pattern starts a fresh `wirepost --workers 1` pinned to core 0 and
# drives the abusers and the normal client from core 1. See benches/hostile/README.md.
#
#   bash benches/hostile/run.sh                          # every pattern, default flags
#   bash benches/hostile/run.sh slowloris chunked        # a subset
#   bash benches/hostile/run.sh slowloris --server-flag=--header-timeout --server-flag=2
#   bash benches/hostile/run.sh --json /tmp/hostile.json # also every figure as JSON
#   bash benches/hostile/run.sh --server both            # nginx beside wirepost, alternating
#
# Patterns: control slowloris slow-readers conn-flood pipelined chunked multipart-echo
# multipart-upload multipart-upload-files. Options: python3 benches/hostile/hostile.py run --help
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need python3 || missing+=(python3)
need taskset || missing+=(util-linux)
# nginx (the peer, benches/hostile/nginx.conf) only when asked for.
server=wirepost
prev=""
for a in "$@"; do
    case $a in --server=*) server=${a#--server=} ;; esac
    [ "$prev" = --server ] && server=$a
    prev=$a
done
case $server in nginx | both) need nginx || [ -x /usr/sbin/nginx ] || missing+=(nginx) ;; esac
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cargo build --release -q
# The abusers hold up to ~11,000 sockets at once (conn-flood).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "hostile clients: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); server on core 0, clients on core 1; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c 1 python3 benches/hostile/hostile.py run "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
