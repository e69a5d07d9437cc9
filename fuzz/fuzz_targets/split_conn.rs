//! Differential: the connection state machine (`http::conn`) fed a request stream
//! whole, cut at the fuzzer's chosen points, and (flag bit 2) one byte at a time must
//! log the same heads, bodies, responses, refusals, closes and timeouts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost_fuzz::{Control, FLAG_BYTEWISE, conn_log};

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    let limits = c.head_limits();
    let whole = conn_log(limits, [c.data]);
    let split = conn_log(limits, c.pieces(c.data));
    assert_eq!(split, whole, "split at {:?}", c.gaps);
    if c.has(FLAG_BYTEWISE) {
        let bytewise = conn_log(limits, c.data.chunks(1));
        assert_eq!(bytewise, whole, "one byte at a time");
    }
});
