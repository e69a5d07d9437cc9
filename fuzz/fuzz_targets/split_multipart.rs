//! Differential: the multipart body fed whole, cut at the fuzzer's chosen points, and
//! (flag bit 2) one byte at a time must give identical event logs (part headers,
//! data, part ends, end, errors with their byte, bytes left over), and so must the
//! `MultipartStream` the pages use, pushed the same pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost::http::multipart::boundary_from_content_type;
use wirepost_fuzz::{
    Control, FLAG_BYTEWISE, MpLog, multipart_log, multipart_stream_log, split_content_type,
};

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    let (content_type, body) = split_content_type(c.data);
    let Ok(boundary) = boundary_from_content_type(content_type) else {
        return;
    };
    let limits = c.multipart_limits();
    let whole = multipart_log(&boundary, limits, [body]);
    let split = multipart_log(&boundary, limits, c.pieces(body));
    assert_eq!(split, whole, "split at {:?}", c.gaps);
    // The stream the pages use, pushed the same pieces.
    let mut expected = whole.clone();
    expected.retain(|e| !matches!(e, MpLog::Rest(_)));
    let streamed = multipart_stream_log(&boundary, limits, c.pieces(body));
    assert_eq!(streamed, expected, "streamed, split at {:?}", c.gaps);
    if c.has(FLAG_BYTEWISE) {
        let bytewise = multipart_log(&boundary, limits, body.chunks(1));
        assert_eq!(bytewise, whole, "one byte at a time");
    }
});
