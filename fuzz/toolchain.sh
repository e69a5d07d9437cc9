# Sourced by fuzz/smoke.sh and fuzz/run-long.sh: how to call `cargo fuzz`.
#
# cargo fuzz needs nightly-only rustc flags (-Zsanitizer, sancov passes). With a
# nightly toolchain installed (`rustup toolchain list`), it is used; otherwise the
# stable toolchain is told to accept them with RUSTC_BOOTSTRAP=1 (no download).
# Sets FUZZ_CARGO (an array: the command up to and including `fuzz`).
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    FUZZ_CARGO=(cargo +nightly fuzz)
    FUZZ_TOOLCHAIN=nightly
else
    export RUSTC_BOOTSTRAP=1
    FUZZ_CARGO=(cargo +stable fuzz)
    FUZZ_TOOLCHAIN="stable with RUSTC_BOOTSTRAP=1"
fi
# The targets, in the order the scripts run them.
FUZZ_TARGETS=(head request chunked query cookie multipart split_request split_multipart split_conn)
