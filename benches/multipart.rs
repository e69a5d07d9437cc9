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
//! And a form of 1000 tiny text parts (what a flood of small parts costs per part),
//! pushed through a `MultipartStream` in 32 KiB pieces (a connection's buffer): ns per
//! part for the parser alone (names and values looked at, nothing kept).
//!
//! Memory: the parser holds `CRLF--boundary` and a few counters (plus one part's
//! headers while they are read, at most `max_part_header_section`). In part data the
//! caller's buffer never keeps more than the delimiter's length + 1 unconsumed
//! bytes, so extra memory is O(boundary) by construction, whatever the file's size;
//! the bench asserts that bound on every `NeedData`.

use std::hint::black_box;
use std::time::Instant;
use wirepost::http::multipart::{Event, MultipartLimits, MultipartParser, MultipartStream, Piece};

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

const TINY_PARTS: usize = 1000;

/// `TINY_PARTS` text fields of one byte each, as the hostile benchmark sends them.
fn tiny_parts_body() -> Vec<u8> {
    let mut body = Vec::new();
    for i in 0..TINY_PARTS {
        body.extend_from_slice(
            format!(
                "--hostileBoundary\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(b"--hostileBoundary--\r\n");
    body
}

/// Pushes the tiny-parts body in 32 KiB pieces; returns the parts seen.
fn parse_tiny(body: &[u8]) -> usize {
    let mut stream = MultipartStream::new(b"hostileBoundary", MultipartLimits::default());
    let mut parts = 0;
    for piece in body.chunks(32 * 1024) {
        stream
            .push(piece, |p| {
                match p {
                    Piece::Begin(h) => {
                        black_box(&h.name);
                        parts += 1;
                    }
                    Piece::Data(d) => {
                        black_box(d);
                    }
                    Piece::End => {}
                }
                Ok::<(), ()>(())
            })
            .expect("valid body");
    }
    stream.finish().expect("complete");
    parts
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
    let tiny = tiny_parts_body();
    let mut per_part = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        for _ in 0..20 {
            assert_eq!(parse_tiny(&tiny), TINY_PARTS);
        }
        per_part.push(start.elapsed().as_secs_f64() * 1e9 / (20 * TINY_PARTS) as f64);
    }
    println!(
        "multipart: {TINY_PARTS} one-byte text parts ({} bytes), 32 KiB pieces, median of {runs}",
        tiny.len()
    );
    println!("  stream   {:8.0} ns per part", median(&mut per_part));
}
