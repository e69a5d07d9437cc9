//! ChunkedDecoder::decode as a connection drives it (drain what is consumed, feed
//! again), whole and cut at the fuzzer's chosen points. Asserts: consumed ≤ given;
//! the data range non-empty and within consumed; progress (a call on non-empty input
//! consumes a byte unless the body is done; NeedData-like steps consume all); the
//! decoded output never larger than the bytes consumed; offset() = start + consumed;
//! nothing consumed after done; line ≥ the start line; errors sticky, at a line ≥ the
//! start and a byte within the input; whole and split give the same output, error,
//! done flag and consumed count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost::http::ParseError;
use wirepost::http::chunked::ChunkedDecoder;
use wirepost_fuzz::Control;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Vec<u8>,
    consumed: u64,
    done: bool,
    error: Option<ParseError>,
    line: u32,
}

fn decode<'a>(line: u32, start: u64, pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut d = ChunkedDecoder::new(line, start);
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut consumed = 0u64;
    let mut given = 0u64;
    for piece in pieces {
        buf.extend_from_slice(piece);
        given += piece.len() as u64;
        loop {
            let was_done = d.is_done();
            let r = match d.decode(&buf) {
                Ok(r) => r,
                Err(e) => {
                    assert!(e.line >= line, "{e:?} before the start line {line}");
                    assert!(
                        e.byte >= start + consumed && e.byte < start + given,
                        "{e:?} outside {}..{}",
                        start + consumed,
                        start + given
                    );
                    assert_eq!(d.decode(&buf), Err(e), "errors are sticky");
                    assert_eq!(d.decode(b"0\r\n\r\n"), Err(e), "errors are sticky");
                    // (What was consumed before the error depends on the cuts.)
                    return Outcome {
                        data: out,
                        consumed: 0,
                        done: false,
                        error: Some(e),
                        line: d.line(),
                    };
                }
            };
            assert!(r.consumed <= buf.len(), "consumed more than given");
            if was_done {
                assert!(r.done && r.consumed == 0 && r.data.is_none(), "after done");
            } else if !buf.is_empty() {
                assert!(r.consumed > 0, "no progress on {} bytes", buf.len());
            }
            if let Some(range) = &r.data {
                assert!(!range.is_empty() && range.end <= r.consumed, "{range:?}");
                out.extend_from_slice(&buf[range.clone()]);
            } else if !r.done {
                assert_eq!(r.consumed, buf.len(), "bytes held back");
            }
            consumed += r.consumed as u64;
            assert_eq!(d.offset(), start + consumed, "offset");
            assert!(d.line() >= line);
            assert!(out.len() as u64 <= consumed, "decoded output grew");
            assert_eq!(r.done, d.is_done());
            buf.drain(..r.consumed);
            if r.done || r.consumed == 0 || (r.data.is_none() && buf.is_empty()) {
                break;
            }
        }
    }
    if d.is_done() {
        // At least "0\r\n\r\n" was read.
        assert!(consumed >= out.len() as u64 + 5);
    }
    Outcome {
        data: out,
        consumed,
        done: d.is_done(),
        error: None,
        line: d.line(),
    }
}

fuzz_target!(|input: &[u8]| {
    let c = Control::parse(input);
    let line = 1 + u32::from(c.flags);
    let start = u64::from(c.flags) * 977;
    let whole = decode(line, start, [c.data]);
    let split = decode(line, start, c.pieces(c.data));
    assert_eq!(split, whole, "split at {:?}", c.gaps);
});
