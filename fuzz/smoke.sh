#!/usr/bin/env bash
# Fuzz smoke run (CI): build every target, then run each for a few seconds from the
# committed seeds. Fails on any crash, assertion, hang or memory blow-up.
#
#   fuzz/smoke.sh                 SMOKE_SECS=5 per target (environment)
#
# Uses AddressSanitizer (SANITIZER=none to skip it), nightly if installed, else the
# stable toolchain with RUSTC_BOOTSTRAP=1 (see fuzz/toolchain.sh). New inputs go to a
# temporary directory: the committed corpus is only read. Needs cargo-fuzz
# (`cargo install cargo-fuzz --locked --version 0.13.1`) and a C++ compiler.
set -euo pipefail
cd "$(dirname "$0")"
source ./toolchain.sh

SMOKE_SECS=${SMOKE_SECS:-5}
SANITIZER=${SANITIZER:-address}
# A small ASan quarantine, so the RSS limit measures the parsers, not ASan.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:detect_leaks=1}

echo "fuzz/smoke.sh: cargo fuzz on ${FUZZ_TOOLCHAIN}, sanitizer ${SANITIZER}, ${SMOKE_SECS}s a target"
"${FUZZ_CARGO[@]}" build --sanitizer "$SANITIZER"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
summary=()
for t in "${FUZZ_TARGETS[@]}"; do
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    if ! "${FUZZ_CARGO[@]}" run --sanitizer "$SANITIZER" "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$SMOKE_SECS" -timeout=10 -rss_limit_mb=512 -malloc_limit_mb=256 \
        >"$log" 2>&1; then
        cat "$log" >&2
        echo "fuzz/smoke.sh: target $t FAILED (artifact under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    summary+=("$(printf '%-16s %s' "$t" "$(grep -E '^Done [0-9]+ runs' "$log" | tail -1)")")
done
printf '%s\n' "${summary[@]}"
echo "fuzz/smoke.sh: ${#FUZZ_TARGETS[@]} targets, no crash"
