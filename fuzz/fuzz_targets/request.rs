//! RequestParser::advance over a whole connection's bytes (pipelined requests, bodies
//! by Content-Length and chunked), with the invariants of `wirepost_fuzz::request_log`:
//! consumed ≤ given, Data ranges non-empty and within consumed, NeedData consumes all
//! of a body and nothing of a head, Content-Length bodies exact, chunked output ≤ its
//! framing, heads within the limits, errors sticky at a line ≥ 1 and a byte within
//! the bytes given, bounded steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost_fuzz::{Control, FLAG_STRICT, request_log};

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    request_log(c.head_limits(), c.has(FLAG_STRICT), [c.data]);
});
