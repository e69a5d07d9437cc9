//! Multipart parser throughput: one 100 MiB file part of pseudo-random bytes with
//! `\r\n-` sprinkled in (a boundary candidate every ~512 bytes, besides the CRs that
//! random bytes hold by chance), fed in 64 KiB reads.
//!
//! `cargo bench --bench multipart` prints the median MB/s (10^6 bytes/s) of a few
//! runs, two ways:
//! - **parser**: each read is a window over the body held in memory (the input is the
//!   unconsumed bytes plus the new read, no copy): the parser's own cost.
//! - **buffered**: like a connection: each 64 KiB read is appended to a `Vec`, fed
//!   until `NeedData`, and the consumed bytes drained (the copy a socket read makes
//!   anyway, plus moving the few held-back bytes to the front).
//!
//! Memory: the parser holds `CRLF--boundary` and a few counters (plus one part's
//! headers while they are read, at most `max_part_header_section`). In part data the
//! caller's buffer never keeps more than the delimiter's length + 1 unconsumed
//! bytes, so extra memory is O(boundary) by construction, whatever the file's size;
//! the bench asserts that bound on every `NeedData`.

use std::hint::black_box;
use std::time::Instant;
use wirepost::http::multipart::{Event, MultipartLimits, MultipartParser};

const BODY_MIB: usize = 100;
const READ: usize = 64 * 1024;
const BOUNDARY: &[u8] = b"----WebKitFormBoundary7MA4YWxkTrZu0gW";

fn make_body() -> (Vec<u8>, usize) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let size = BODY_MIB << 20;
    let mut content = Vec::with_capacity(size);
    while content.len() < size {
        content.extend_from_slice(&next().to_le_bytes());
    }
    content.truncate(size);
    let mut at = 0;
    loop {
        at += 1 + (next() % 1024) as usize;
        if at + 3 > size {
            break;
        }
        content[at..at + 3].copy_from_slice(b"\r\n-");
    }
    let mut body = b"--".to_vec();
    body.extend_from_slice(BOUNDARY);
    body.extend_from_slice(
        b"\r\nContent-Disposition: form-data; name=\"f\"; filename=\"random.bin\"\r\n\
          Content-Type: application/octet-stream\r\n\r\n",
    );
    body.extend_from_slice(&content);
    body.extend_from_slice(b"\r\n--");
    body.extend_from_slice(BOUNDARY);
    body.extend_from_slice(b"--\r\n");
    (body, size)
}

/// Parses `body` read through a window: input = unconsumed bytes + the new read.
fn parse_windowed(body: &[u8]) -> usize {
    let mut p = MultipartParser::new(BOUNDARY, MultipartLimits::default());
    let (mut consumed, mut read_end, mut data) = (0, 0, 0);
    while read_end < body.len() {
        read_end = (read_end + READ).min(body.len());
        loop {
            let step = p.feed(&body[consumed..read_end]).expect("valid body");
            if let Event::PartData(r) = &step.event {
                data += black_box(&body[consumed + r.start..consumed + r.end]).len();
            }
            consumed += step.consumed;
            match step.event {
                Event::NeedData => {
                    assert!(read_end - consumed <= BOUNDARY.len() + 5);
                    break;
                }
                Event::End => break,
                _ => {}
            }
        }
    }
    p.finish().expect("complete");
    data
}

/// Parses `body` the way a connection does: append each read, feed, drain.
fn parse_buffered(body: &[u8]) -> usize {
    let mut p = MultipartParser::new(BOUNDARY, MultipartLimits::default());
    let mut buf: Vec<u8> = Vec::with_capacity(2 * READ);
    let mut data = 0;
    for read in body.chunks(READ) {
        buf.extend_from_slice(read);
        loop {
            let step = p.feed(&buf).expect("valid body");
            if let Event::PartData(r) = &step.event {
                data += black_box(&buf[r.clone()]).len();
            }
            buf.drain(..step.consumed);
            match step.event {
                Event::NeedData => {
                    assert!(buf.len() <= BOUNDARY.len() + 5);
                    break;
                }
                Event::End => break,
                _ => {}
            }
        }
    }
    p.finish().expect("complete");
    data
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let (body, content_len) = make_body();
    let runs = 7;
    let mut windowed = Vec::new();
    let mut buffered = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        assert_eq!(parse_windowed(&body), content_len);
        windowed.push(body.len() as f64 / start.elapsed().as_secs_f64() / 1e6);
        let start = Instant::now();
        assert_eq!(parse_buffered(&body), content_len);
        buffered.push(body.len() as f64 / start.elapsed().as_secs_f64() / 1e6);
    }
    println!(
        "multipart: {BODY_MIB} MiB file part, {} KiB reads, boundary of {} bytes, median of {runs}",
        READ / 1024,
        BOUNDARY.len()
    );
    println!("  parser   {:8.0} MB/s", median(&mut windowed));
    println!("  buffered {:8.0} MB/s", median(&mut buffered));
    println!(
        "  held back at most {} bytes between reads (delimiter + 1); parser state O(boundary)",
        BOUNDARY.len() + 5
    );
}
