//! Differential: the request stream fed whole, cut at the fuzzer's chosen points (the
//! control bytes), and (flag bit 2) one byte at a time must give identical event logs
//! (heads, framing, body data, ends, errors with line and byte, bytes left over).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost_fuzz::{Control, FLAG_BYTEWISE, FLAG_STRICT, request_log};

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    let (limits, strict) = (c.head_limits(), c.has(FLAG_STRICT));
    let whole = request_log(limits, strict, [c.data]);
    let split = request_log(limits, strict, c.pieces(c.data));
    assert_eq!(split, whole, "split at {:?}", c.gaps);
    if c.has(FLAG_BYTEWISE) {
        let bytewise = request_log(limits, strict, c.data.chunks(1));
        assert_eq!(bytewise, whole, "one byte at a time");
    }
});
