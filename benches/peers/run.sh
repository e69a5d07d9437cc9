#!/usr/bin/env bash
# The peer benchmark of issue 14: wirepost against hyper, may_minihttp and nginx, one
# thread of work each, interleaved (A B C D per round, ROUNDS rounds) on three
# scenarios: plaintext (GET /plaintext), static (the page www/static/hello.html) and
# pipelined (GET /plaintext, 16 per write). It is benches/wrk/run.sh with these
# servers: every run on a fresh server pinned to core 0 (wrk on core 1), the answers
# checked byte for byte first, a warm-up, a wait for a quiet machine and a repeat of
# disturbed runs; then one table of medians (req/s, p99, server CPU µs per request,
# share of a core) with the ratios of wirepost to each peer. See README.md here.
#
#   bash benches/peers/run.sh                         # 10 s runs, 3 rounds (~8 min)
#   BENCH_DURATION=5 ROUNDS=5 bash benches/peers/run.sh
#   BENCH_SCENARIOS=pipelined bash benches/peers/run.sh
#   # a smoke test of the scripts (figures meaningless):
#   BENCH_DURATION=1 BENCH_WARMUP=0 ROUNDS=1 BENCH_QUIET_WAIT=1 bash benches/peers/run.sh
#
# Every BENCH_* variable of benches/wrk/run.sh applies (BENCH_CONNS, BENCH_DEPTH,
# BENCH_MAX_PRESSURE, BENCH_RETRIES, ...); BENCH_SERVERS may reorder or drop peers,
# and its first server is the one the ratios are of.
set -euo pipefail
cd "$(dirname "$0")/../.."
export BENCH_SERVERS=${BENCH_SERVERS:-wirepost hyper minihttp nginx}
export BENCH_SCENARIOS=${BENCH_SCENARIOS:-plaintext static pipelined}
export ROUNDS=${ROUNDS:-3}
exec bash benches/wrk/run.sh
