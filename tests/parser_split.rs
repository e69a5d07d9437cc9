//! The split property of the request parser (STYLE principle 9): however the bytes
//! of a connection are cut into reads, the parser produces the same events.
//!
//! Each test vector in `tests/vectors/request_*.http` is a byte stream (one or more
//! messages, maybe an error, maybe a partial message at the end) and the event log it
//! must give. The stream is fed (a) whole, (b) one byte at a time, (c) as every
//! two-piece split, (d) as seeded random splits; every way must give the log in the
//! file. The harness works like a connection: it appends each read to a `Vec`,
//! calls `advance` while that makes progress, drains consumed bytes, resets after
//! `End`, and at the end of input calls `finish` and logs the bytes left unconsumed.
//!
//! Vector format:
//! ```text
//! # comment lines (before `--- input`)
//! --- input
//! GET / HTTP/1.1\r\n          each line's text, escapes \r \n \t \0 \\ \xHH; the
//! Host: a\r\n                 file's own newlines are not part of the input
//! \r\n
//! --- events
//! head GET / HTTP/1.1         method, target, version
//! header Host: a              each field, in order, value escaped like the input
//! framing none keep-alive     none | length N | chunked; keep-alive | close; [continue]
//! data ...                    body bytes (consecutive Data events coalesced)
//! end
//! error Kind line N byte B status S     advance() failed (stops the stream)
//! eof Kind line N byte B                finish() failed at the end of input
//! rest ...                              bytes left unconsumed at the end
//! ```
//! Run with `BLESS=1` to print the logs the parser gives (to write a new vector).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use wirepost::http::framing::BodyKind;
use wirepost::http::head::{HeadLimits, MAX_HEADER_SECTION, MAX_HEADERS, MAX_REQUEST_LINE};
use wirepost::http::{Event, RequestParser};

/// Bytes as the vectors write them: printable ASCII as is, the rest escaped.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\0' => s.push_str("\\0"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7E => s.push(b as char),
            _ => write!(s, "\\x{b:02x}").unwrap(),
        }
    }
    s
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            other => panic!("bad escape {other:?} in {text:?}"),
        }
        i += 2;
    }
    out
}

/// The normalized event log of the parser on `input` read in `pieces`.
fn run<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
    let mut parser = RequestParser::new(HeadLimits::default());
    let mut buf: Vec<u8> = Vec::new();
    let mut log: Vec<String> = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let step = match parser.advance(&buf) {
                Ok(step) => step,
                Err(e) => {
                    let status = e.status();
                    log.push(format!(
                        "error {:?} line {} byte {} status {status}",
                        e.kind, e.line, e.byte
                    ));
                    return log;
                }
            };
            assert!(step.consumed <= buf.len(), "consumed more than given");
            match &step.event {
                Event::NeedData => {}
                Event::Head { len } => {
                    assert_eq!(*len, step.consumed);
                    let head = parser.head(&buf[..*len]);
                    log.push(format!(
                        "head {} {} {}",
                        head.method_str(),
                        head.target(),
                        head.version.as_str()
                    ));
                    for (name, value) in head.headers() {
                        log.push(format!("header {name}: {}", escape(value)));
                    }
                    let f = parser.framing().expect("framing after Head");
                    let mut line = match f.body {
                        BodyKind::None => "framing none".to_string(),
                        BodyKind::Length(n) => format!("framing length {n}"),
                        BodyKind::Chunked => "framing chunked".to_string(),
                    };
                    line.push_str(if f.keep_alive {
                        " keep-alive"
                    } else {
                        " close"
                    });
                    if f.expect_continue {
                        line.push_str(" continue");
                    }
                    log.push(line);
                }
                Event::Data(range) => {
                    assert!(
                        !range.is_empty() && range.end <= step.consumed,
                        "{range:?} of {}",
                        step.consumed
                    );
                    let text = escape(&buf[range.clone()]);
                    match log.last_mut() {
                        Some(last) if last.starts_with("data ") => last.push_str(&text),
                        _ => log.push(format!("data {text}")),
                    }
                }
                Event::End => log.push("end".to_string()),
            }
            buf.drain(..step.consumed);
            match step.event {
                Event::End => parser.reset(),
                Event::NeedData => break,
                Event::Head { .. } | Event::Data(_) => {}
            }
        }
    }
    if let Err(e) = parser.finish() {
        log.push(format!("eof {:?} line {} byte {}", e.kind, e.line, e.byte));
    }
    if !buf.is_empty() {
        log.push(format!("rest {}", escape(&buf)));
    }
    log
}

/// A tiny xorshift64 PRNG (Marsaglia), so the random splits are the same every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `input` cut at random places: `count` splittings, pieces of 1..=`max_piece` bytes
/// (sometimes empty reads too).
fn random_splits(input: &[u8], seed: u64, count: usize, max_piece: usize) -> Vec<Vec<&[u8]>> {
    let mut rng = XorShift(seed);
    (0..count)
        .map(|_| {
            let mut pieces = Vec::new();
            let mut at = 0;
            while at < input.len() {
                let n = if rng.below(8) == 0 {
                    0
                } else {
                    1 + rng.below(max_piece)
                };
                let end = (at + n).min(input.len());
                pieces.push(&input[at..end]);
                at = end;
            }
            pieces
        })
        .collect()
}

/// Checks the split property on `input`: every way of cutting it gives the log of
/// the whole. `every_split` also tries all two-piece splits (quadratic: small inputs).
fn assert_split_property(name: &str, input: &[u8], every_split: bool) -> Vec<String> {
    let whole = run([input]);
    let bytewise = run(input.chunks(1));
    assert_eq!(bytewise, whole, "{name}: one byte at a time");
    if every_split {
        for i in 0..=input.len() {
            let log = run([&input[..i], &input[i..]]);
            assert_eq!(log, whole, "{name}: split at {i}");
        }
    }
    let max_piece = (input.len() / 3).max(2);
    for (k, pieces) in random_splits(input, 0x9E37_79B9_7F4A_7C15, 40, max_piece)
        .into_iter()
        .enumerate()
    {
        let sizes: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        assert_eq!(run(pieces), whole, "{name}: random split #{k} {sizes:?}");
    }
    whole
}

struct Vector {
    name: String,
    input: Vec<u8>,
    events: Vec<String>,
}

fn load(path: &Path) -> Vector {
    let text = std::fs::read_to_string(path).unwrap();
    let mut section = "";
    let mut input = Vec::new();
    let mut events = Vec::new();
    for line in text.lines() {
        match line {
            "--- input" | "--- events" => section = line,
            _ => match section {
                "--- input" => input.extend(unescape(line)),
                "--- events" if !line.is_empty() => events.push(line.to_string()),
                "" if line.starts_with('#') || line.is_empty() => {}
                _ => panic!("{}: unexpected line {line:?}", path.display()),
            },
        }
    }
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        !input.is_empty() && !events.is_empty(),
        "{name}: empty section"
    );
    Vector {
        name,
        input,
        events,
    }
}

fn vector_paths() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("request_") && name.ends_with(".http")
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn vectors_give_their_events_however_split() {
    let paths = vector_paths();
    assert!(paths.len() >= 40, "found only {} vectors", paths.len());
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for path in paths {
        let v = load(&path);
        let whole = run([v.input.as_slice()]);
        if bless {
            println!("== {}\n{}", v.name, whole.join("\n"));
        }
        if whole != v.events {
            failures.push(format!(
                "{}:\n  want {:?}\n  got  {:?}",
                v.name, v.events, whole
            ));
            continue;
        }
        assert_split_property(&v.name, &v.input, true);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_vectors_back_to_back() {
    // The valid vectors concatenated are one long pipelined connection.
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for path in vector_paths() {
        let v = load(&path);
        let clean = v
            .events
            .iter()
            .all(|e| !e.starts_with("error") && !e.starts_with("eof") && !e.starts_with("rest"));
        if clean {
            stream.extend_from_slice(&v.input);
            want.extend(v.events);
        }
    }
    assert!(want.len() > 50);
    assert_eq!(
        assert_split_property("all valid vectors", &stream, false),
        want
    );
}

/// The head limits at N and N+1, split every way too (these inputs are large, so
/// byte by byte and random splits only).
#[test]
fn limits_at_n_and_n_plus_1_however_split() {
    let request_line = |len: usize| {
        let mut line = b"GET /".to_vec();
        line.resize(len - b" HTTP/1.1".len(), b'a');
        line.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
        line
    };
    let ok = assert_split_property("request line N", &request_line(MAX_REQUEST_LINE), false);
    assert_eq!(ok.last().map(String::as_str), Some("end"));
    let too_long = assert_split_property(
        "request line N+1",
        &request_line(MAX_REQUEST_LINE + 1),
        false,
    );
    assert_eq!(
        too_long,
        [format!(
            "error RequestLineTooLong line 1 byte {MAX_REQUEST_LINE} status 414"
        )]
    );

    let section = |len: usize| {
        let mut text = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        text.resize(len - 2, b'x');
        text.extend_from_slice(b"\r\n\r\n");
        text
    };
    let ok = assert_split_property("header section N", &section(MAX_HEADER_SECTION), false);
    assert_eq!(ok.last().map(String::as_str), Some("end"));
    let too_big = assert_split_property(
        "header section N+1",
        &section(MAX_HEADER_SECTION + 1),
        false,
    );
    assert_eq!(
        too_big,
        [format!(
            "error HeaderSectionTooLarge line 3 byte {MAX_HEADER_SECTION} status 431"
        )]
    );

    let fields = |n: usize| {
        let mut text = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 1..n {
            text.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        text.extend_from_slice(b"\r\n");
        text
    };
    let ok = assert_split_property("fields N", &fields(MAX_HEADERS), true);
    assert_eq!(ok.len(), MAX_HEADERS + 3);
    let too_many = assert_split_property("fields N+1", &fields(MAX_HEADERS + 1), true);
    let line = MAX_HEADERS + 2;
    let byte = fields(MAX_HEADERS).len() - 2;
    assert_eq!(
        too_many,
        [format!(
            "error TooManyHeaders line {line} byte {byte} status 431"
        )]
    );
}

#[test]
fn a_long_body_is_not_held_back() {
    // Data comes out as it arrives, whatever the read sizes: the log coalesces it,
    // so check the event count directly on a byte-by-byte feed.
    let mut input = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'z', 1000));
    let mut parser = RequestParser::new(HeadLimits::default());
    let mut buf = Vec::new();
    let mut data_events = 0;
    for &b in &input {
        buf.push(b);
        loop {
            let step = parser.advance(&buf).unwrap();
            if let Event::Data(_) = step.event {
                data_events += 1;
            }
            buf.drain(..step.consumed);
            if step.event == Event::NeedData || step.event == Event::End {
                break;
            }
        }
    }
    assert_eq!(data_events, 1000);
    assert_split_property("long body", &input, false);
}
