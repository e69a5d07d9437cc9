#!/usr/bin/env bash
# Long fuzz runs, one target at a time (one job), then a summary table.
#
#   fuzz/run-long.sh [TARGET...]          (default: all targets)
#
# Environment (defaults in brackets):
#   RUNS [10000000]        stop a target after this many executions (-runs)
#   MAX_TIME [600]         ... or after this many seconds (-max_total_time), whichever first
#   SANITIZER [address]    cargo fuzz --sanitizer: address or none (none is 2-4x faster;
#                          src/http has no unsafe code)
#   TIMEOUT [10]           seconds one input may take before it is a hang (-timeout)
#   RSS_LIMIT_MB [512]     memory limit of the process (-rss_limit_mb)
#   MALLOC_LIMIT_MB [256]  largest single allocation (-malloc_limit_mb; needs ASan)
#
# New inputs go to fuzz/corpus-run/<target>/ (ignored by git); fuzz/corpus/<target>/
# (the committed seeds) is only read. Logs: fuzz/logs/<target>.log. Exit status 1 if
# any target found a crash, hang or leak (the artifact is under fuzz/artifacts/).
set -uo pipefail
cd "$(dirname "$0")"
source ./toolchain.sh

RUNS=${RUNS:-10000000}
MAX_TIME=${MAX_TIME:-600}
SANITIZER=${SANITIZER:-address}
TIMEOUT=${TIMEOUT:-10}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-512}
MALLOC_LIMIT_MB=${MALLOC_LIMIT_MB:-256}
targets=("$@")
((${#targets[@]})) || targets=("${FUZZ_TARGETS[@]}")

echo "run-long: ${FUZZ_TOOLCHAIN}, sanitizer ${SANITIZER}, runs ${RUNS}, max ${MAX_TIME}s each" >&2
"${FUZZ_CARGO[@]}" build --sanitizer "$SANITIZER" >&2 || exit 1

mkdir -p logs
rows=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus-run/$t" "corpus/$t"
    log="logs/$t.log"
    cmd=("${FUZZ_CARGO[@]}" run --sanitizer "$SANITIZER" "$t" "corpus-run/$t" "corpus/$t" --
        -runs="$RUNS" -max_total_time="$MAX_TIME" -timeout="$TIMEOUT"
        -rss_limit_mb="$RSS_LIMIT_MB" -malloc_limit_mb="$MALLOC_LIMIT_MB" -print_final_stats=1)
    echo "run-long: ${cmd[*]}" >&2
    start=$(date +%s)
    "${cmd[@]}" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    # The last status line: "#N  DONE/pulse/NEW ... cov: C ft: F corp: ... exec/s: E rss: R".
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    eps=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
    rss=$(grep -oE 'rss: [0-9]+Mb' <<<"$last" | grep -oE '[0-9]+')
    status=ok
    if ((rc != 0)); then
        status="FAIL($rc)"
        failed=1
    fi
    rows+=("$(printf '%-16s %-8s %12s %8s %8s %6s %6s %8s' "$t" "$status" "${execs:--}" \
        "${eps:--}" "$secs" "${cov:--}" "${ft:--}" "${rss:--}")")
done

printf '\n%-16s %-8s %12s %8s %8s %6s %6s %8s\n' target status execs exec/s secs cov ft rss_mb
printf '%s\n' "${rows[@]}"
exit "$failed"
