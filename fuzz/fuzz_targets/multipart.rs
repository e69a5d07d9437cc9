//! boundary_from_content_type on the first line, then MultipartParser::feed/finish on
//! the rest, with the invariants of `wirepost_fuzz::multipart_log`: consumed ≤ given,
//! PartData non-empty within consumed, events in order (begin, data, part-end, end),
//! parts/headers within the limits, bytes held back bounded by the delimiter or the
//! header section limit, End consumes the epilogue, errors sticky at a byte within
//! the body (finish: at its length), bounded steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost::http::multipart::{MAX_BOUNDARY, boundary_from_content_type, is_valid_boundary};
use wirepost_fuzz::{Control, multipart_log, split_content_type};

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    let (content_type, body) = split_content_type(c.data);
    let boundary = match boundary_from_content_type(content_type) {
        Ok(b) => b,
        Err(e) => {
            assert!(e.byte.is_none(), "a Content-Type error has no body byte");
            assert_eq!(e.status(), 400);
            return;
        }
    };
    assert!(is_valid_boundary(&boundary) && boundary.len() <= MAX_BOUNDARY);
    multipart_log(&boundary, c.multipart_limits(), [body]);
});
