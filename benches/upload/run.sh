#!/usr/bin/env bash
# Upload benchmark: a large file sent with `curl -F` to POST /upload/, beside a raw
# loopback copy of the same bytes (`nc` into /dev/null) as the physical limit.
#
# Also a raw copy into a file on the same disk, fsynced, since an upload must be
# stored: on a machine whose page cache is slow that, not the socket, is the limit.
# Prints MB/s for each, the ratios, and the server's peak RSS (VmHWM from
# /proc/PID/status) after the upload. Aims (issue 3): RSS under 32 MiB whatever the
# size, throughput at least half of the raw copy.
#
#   bash benches/upload/run.sh            # 1 GiB
#   UPLOAD_MIB=256 bash benches/upload/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${UPLOAD_MIB:-1024}
need() { command -v "$1" >/dev/null 2>&1; }
if ! need nc || ! need curl; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq netcat-openbsd curl
fi
cargo build --release -q
tmp=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

file="$tmp/big.bin"
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$file"
bytes=$(stat -c %s "$file")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Each step starts with no dirty pages from the one before (writeback would skew it).
sync
# 1. The raw copy: nc into /dev/null.
port=$(free_port)
nc -l 127.0.0.1 "$port" >/dev/null &
sink=$!
sleep 0.3
t0=$(date +%s.%N)
nc -N 127.0.0.1 "$port" <"$file"
wait "$sink" || true
t1=$(date +%s.%N)
raw_mbps=$(python3 -c "print(f'{$bytes/($t1-$t0)/1e6:.0f}')")

sync
# 1b. The raw copy into a file on the data disk, fsynced: what storing costs here.
port=$(free_port)
nc -l 127.0.0.1 "$port" >"$tmp/raw-copy.bin" &
sink=$!
sleep 0.3
t0=$(date +%s.%N)
nc -N 127.0.0.1 "$port" <"$file"
wait "$sink" || true
sync "$tmp/raw-copy.bin"
t1=$(date +%s.%N)
rm -f "$tmp/raw-copy.bin"
disk_mbps=$(python3 -c "print(f'{$bytes/($t1-$t0)/1e6:.0f}')")

sync
# 2. wirepost: curl -F into /upload/.
mkdir -p "$tmp/data"
RUST_LOG=warn target/release/wirepost --addr 127.0.0.1:0 --workers 1 --data "$tmp/data" \
    --max-upload $((MIB * 2))M >"$tmp/out" 2>"$tmp/err" &
server_pid=$!
for _ in $(seq 50); do grep -q http:// "$tmp/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$tmp/out")
rss_before=$(awk '/VmHWM/ {print $2}' /proc/$server_pid/status)
out=$(curl -sS -H 'Accept: application/json' -F username=bench -F "headimg=@$file" \
    -w '\n%{http_code} %{time_total}' "$url/upload/")
status=$(tail -n1 <<<"$out" | cut -d' ' -f1)
secs=$(tail -n1 <<<"$out" | cut -d' ' -f2)
[ "$status" = 201 ] || { echo "upload failed: $out" >&2; cat "$tmp/err" >&2; exit 1; }
stored=$(head -n -1 <<<"$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["stored"])')
cmp "$file" "$tmp/data/uploads/$stored" || { echo "stored file differs" >&2; exit 1; }
rss_peak=$(awk '/VmHWM/ {print $2}' /proc/$server_pid/status)
up_mbps=$(python3 -c "print(f'{$bytes/$secs/1e6:.0f}')")

echo "upload of $MIB MiB on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
printf '%-34s %10s\n' "what" "MB/s"
printf '%-34s %10s\n' "raw loopback copy (nc > /dev/null)" "$raw_mbps"
printf '%-34s %10s\n' "raw copy into a file + fsync" "$disk_mbps"
printf '%-34s %10s\n' "wirepost POST /upload/ (curl -F)" "$up_mbps"
python3 -c "print(f'ratio wirepost/raw copy: {$up_mbps/$raw_mbps:.2f}; wirepost/raw copy to disk: {$up_mbps/$disk_mbps:.2f}')"
echo "server peak RSS (VmHWM): $((rss_peak / 1024)) MiB (at start: $((rss_before / 1024)) MiB)"
echo "stored file identical to the one sent: yes"
