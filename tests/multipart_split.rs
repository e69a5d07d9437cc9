//! The split property of the multipart parser (STYLE principle 9): however a body is
//! cut into reads, [`MultipartParser`] gives the same events.
//!
//! Each vector in `tests/vectors/multipart_*.http` is a Content-Type value, optional
//! limits, a body and the event log it must give. The body is fed (a) whole, (b) one
//! byte at a time, (c) as every two-piece split, (d) as seeded random splits
//! (some reads empty); every way must give the log in the file. The harness works
//! like a connection: append each read to a `Vec`, feed while that makes progress,
//! drain the consumed bytes, call `finish` at the end of input, and log the bytes
//! left unconsumed. While in part data it also checks that no more than the
//! delimiter's length plus one byte is ever held back.
//!
//! Vector format:
//! ```text
//! # comment lines
//! content-type: multipart/form-data; boundary=b    the request's Content-Type value
//! max-parts: 2                                     optional limits (else the defaults)
//! max-part-headers: 3
//! max-part-header-section: 64
//! --- input
//! --b\r\n                each line's text, escapes \r \n \t \0 \\ \xHH; the file's
//! ...                    own newlines are not part of the input
//! --- events
//! content-type error Kind status S      boundary_from_content_type failed
//! begin name="a" filename="f" type="t"  PartBegin (filename, type only when present)
//! header Name: value                    each raw part header, in order
//! data ...                              part data (consecutive PartData coalesced)
//! part-end
//! end                                   (logged once; later End events are not)
//! error Kind byte N status S            feed() failed (stops the stream)
//! eof Kind byte N                       finish() failed at the end of input
//! rest ...                              bytes left unconsumed at the end
//! ```
//! Run with `BLESS=1` to print the logs the parser gives (to write a new vector).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use wirepost::http::multipart::{
    Event, MAX_PART_HEADER_SECTION, MultipartLimits, MultipartParser, MultipartState,
    boundary_from_content_type,
};

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
            Some(b'"') => out.push(b'"'),
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

/// A string value as the log shows it: quoted, escaped like the input.
fn quoted(s: &str) -> String {
    format!("\"{}\"", escape(s.as_bytes()).replace('"', "\\\""))
}

/// One normalized event: data coalesced, so logs compare whatever the reads were.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Logged {
    Begin(wirepost::http::multipart::PartHeaders),
    Data(Vec<u8>),
    PartEnd,
    End,
    Error(String),
    Eof(String),
    Rest(Vec<u8>),
}

fn render(log: &[Logged]) -> Vec<String> {
    let mut out = Vec::new();
    for e in log {
        match e {
            Logged::Begin(h) => {
                let mut line = format!("begin name={}", quoted(&h.name));
                if let Some(f) = &h.filename {
                    write!(line, " filename={}", quoted(f)).unwrap();
                }
                if let Some(t) = &h.content_type {
                    write!(line, " type={}", quoted(t)).unwrap();
                }
                out.push(line);
                for (name, value) in &h.headers {
                    out.push(format!("header {name}: {}", escape(value)));
                }
            }
            Logged::Data(d) => out.push(format!("data {}", escape(d))),
            Logged::PartEnd => out.push("part-end".into()),
            Logged::End => out.push("end".into()),
            Logged::Error(e) | Logged::Eof(e) => out.push(e.clone()),
            Logged::Rest(r) => out.push(format!("rest {}", escape(r))),
        }
    }
    out
}

/// The normalized event log of a parser for `boundary` on a body read in `pieces`.
fn run<'a>(
    boundary: &[u8],
    limits: MultipartLimits,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Logged> {
    let mut parser = MultipartParser::new(boundary, limits);
    let hold_back_max = boundary.len() + 4 + 1;
    let mut buf: Vec<u8> = Vec::new();
    let mut log: Vec<Logged> = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let step = match parser.feed(&buf) {
                Ok(step) => step,
                Err(e) => {
                    log.push(Logged::Error(format!(
                        "error {:?} byte {} status {}",
                        e.kind,
                        e.byte.unwrap(),
                        e.status()
                    )));
                    return log;
                }
            };
            assert!(step.consumed <= buf.len(), "consumed more than given");
            match &step.event {
                Event::NeedData => {
                    if let MultipartState::Data { matched } = parser.state() {
                        assert!(buf.len() - step.consumed == matched);
                        assert!(matched <= hold_back_max, "held back {matched}");
                    }
                }
                Event::PartBegin(h) => log.push(Logged::Begin(h.clone())),
                Event::PartData(range) => {
                    assert!(
                        !range.is_empty() && range.end <= step.consumed,
                        "{range:?} of {}",
                        step.consumed
                    );
                    let bytes = &buf[range.clone()];
                    match log.last_mut() {
                        Some(Logged::Data(d)) => d.extend_from_slice(bytes),
                        _ => log.push(Logged::Data(bytes.to_vec())),
                    }
                }
                Event::PartEnd => log.push(Logged::PartEnd),
                Event::End => {
                    if log.last() != Some(&Logged::End) {
                        log.push(Logged::End);
                    }
                    assert_eq!(step.consumed, buf.len(), "the epilogue is consumed");
                }
            }
            buf.drain(..step.consumed);
            if matches!(step.event, Event::NeedData | Event::End) {
                break;
            }
        }
    }
    if let Err(e) = parser.finish() {
        log.push(Logged::Eof(format!(
            "eof {:?} byte {}",
            e.kind,
            e.byte.unwrap()
        )));
    }
    if !buf.is_empty() {
        log.push(Logged::Rest(buf));
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
/// (and one read in eight empty).
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

/// Checks the split property: every way of cutting `body` gives the log of the
/// whole. `every_split` also tries all two-piece splits (quadratic: small bodies).
fn assert_split_property(
    name: &str,
    boundary: &[u8],
    limits: MultipartLimits,
    body: &[u8],
    every_split: bool,
    random: usize,
) -> Vec<Logged> {
    let whole = run(boundary, limits, [body]);
    let bytewise = run(boundary, limits, body.chunks(1));
    assert_eq!(bytewise, whole, "{name}: one byte at a time");
    if every_split {
        for i in 0..=body.len() {
            let log = run(boundary, limits, [&body[..i], &body[i..]]);
            assert_eq!(log, whole, "{name}: split at {i}");
        }
    }
    let max_piece = (body.len() / 3).max(2);
    for (k, pieces) in random_splits(body, 0x9E37_79B9_7F4A_7C15, random, max_piece)
        .into_iter()
        .enumerate()
    {
        let sizes: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        let log = run(boundary, limits, pieces);
        assert!(log == whole, "{name}: random split #{k} {sizes:?}");
    }
    whole
}

struct Vector {
    name: String,
    content_type: String,
    limits: MultipartLimits,
    input: Vec<u8>,
    events: Vec<String>,
}

fn load(path: &Path) -> Vector {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut section = "";
    let mut content_type = None;
    let mut limits = MultipartLimits::default();
    let mut input = Vec::new();
    let mut events = Vec::new();
    for line in text.lines() {
        match line {
            "--- input" | "--- events" => section = line,
            _ => match section {
                "--- input" => input.extend(unescape(line)),
                "--- events" if !line.is_empty() => events.push(line.to_string()),
                "" if line.starts_with('#') || line.is_empty() => {}
                "" => {
                    let (key, value) = line
                        .split_once(": ")
                        .unwrap_or_else(|| panic!("{name}: unexpected line {line:?}"));
                    let n = || value.parse::<usize>().unwrap();
                    match key {
                        "content-type" => content_type = Some(value.to_string()),
                        "max-parts" => limits.max_parts = n(),
                        "max-part-headers" => limits.max_part_headers = n(),
                        "max-part-header-section" => limits.max_part_header_section = n(),
                        _ => panic!("{name}: unknown key {key:?}"),
                    }
                }
                _ => panic!("{name}: unexpected line {line:?}"),
            },
        }
    }
    assert!(!events.is_empty(), "{name}: no events");
    Vector {
        content_type: content_type.unwrap_or_else(|| panic!("{name}: no content-type")),
        name,
        limits,
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
            name.starts_with("multipart_") && name.ends_with(".http")
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn vectors_give_their_events_however_split() {
    let paths = vector_paths();
    assert!(paths.len() >= 25, "found only {} vectors", paths.len());
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for path in paths {
        let v = load(&path);
        let boundary = match boundary_from_content_type(v.content_type.as_bytes()) {
            Ok(b) => b,
            Err(e) => {
                let got = vec![format!(
                    "content-type error {:?} status {}",
                    e.kind,
                    e.status()
                )];
                if bless {
                    println!("== {}\n{}", v.name, got.join("\n"));
                }
                if got != v.events {
                    failures.push(format!(
                        "{}:\n  want {:?}\n  got  {got:?}",
                        v.name, v.events
                    ));
                }
                continue;
            }
        };
        let whole = render(&run(&boundary, v.limits, [v.input.as_slice()]));
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
        assert_split_property(&v.name, &boundary, v.limits, &v.input, true, 40);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One file part holding `content`, then the close delimiter.
fn file_body(boundary: &[u8], content: &[u8]) -> Vec<u8> {
    let mut body = b"--".to_vec();
    body.extend_from_slice(boundary);
    body.extend_from_slice(
        b"\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\
          Content-Type: application/octet-stream\r\n\r\n",
    );
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--");
    body.extend_from_slice(boundary);
    body.extend_from_slice(b"--\r\n");
    body
}

/// The file's bytes out of a log, checking the log's shape.
fn file_data(log: &[Logged]) -> Vec<u8> {
    match log {
        [
            Logged::Begin(h),
            Logged::Data(d),
            Logged::PartEnd,
            Logged::End,
        ] => {
            assert_eq!(h.filename.as_deref(), Some("x.bin"));
            d.clone()
        }
        [Logged::Begin(_), Logged::PartEnd, Logged::End] => Vec::new(),
        other => panic!("unexpected log {:?}", render(other)),
    }
}

#[test]
fn a_file_of_all_256_byte_values() {
    let content: Vec<u8> = (0..=255u8).collect();
    let body = file_body(b"b", &content);
    let log = assert_split_property(
        "256 bytes",
        b"b",
        MultipartLimits::default(),
        &body,
        true,
        40,
    );
    assert_eq!(file_data(&log), content);
    // Twice over, backwards too, so every byte also comes right after CR.
    let mut content: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    content.extend((0..=255u8).flat_map(|b| [b'\r', b]));
    let body = file_body(b"b", &content);
    let log = assert_split_property(
        "CR + every byte",
        b"b",
        MultipartLimits::default(),
        &body,
        true,
        40,
    );
    assert_eq!(file_data(&log), content);
}

/// Content made of boundary look-alikes for `boundary`, none of them a delimiter.
fn lookalikes(boundary: &[u8], rng: &mut XorShift, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 100);
    let minus_last = &boundary[..boundary.len() - 1];
    while out.len() < len {
        match rng.below(12) {
            0 => out.extend_from_slice(b"\r\n--"),
            1 => {
                out.extend_from_slice(b"\r\n--");
                out.extend_from_slice(minus_last);
            }
            2 => {
                out.extend_from_slice(b"\r\n--");
                out.extend_from_slice(boundary);
                out.push(b'X');
            }
            3 => {
                out.extend_from_slice(b"\r\n--");
                out.extend_from_slice(boundary);
                out.extend_from_slice(b"-X");
            }
            4 => {
                out.extend_from_slice(b"\r\n--");
                out.extend_from_slice(boundary);
                out.extend_from_slice(b"\rX");
            }
            // The boundary without CRLF before it, or with only one of them.
            5 => {
                out.extend_from_slice(b"--");
                out.extend_from_slice(boundary);
                out.extend_from_slice(b"--\r\n");
            }
            6 => {
                out.extend_from_slice(b"\n--");
                out.extend_from_slice(boundary);
                out.extend_from_slice(b"\r\n");
            }
            7 => {
                out.extend_from_slice(b"\r--");
                out.extend_from_slice(boundary);
            }
            8 => out.extend_from_slice(b"\r\r\n\r\n-"),
            // Random bytes, with CR and LF more likely than by chance.
            _ => {
                for _ in 0..rng.below(40) {
                    let b = match rng.below(10) {
                        0 => b'\r',
                        1 => b'\n',
                        2 => b'-',
                        _ => rng.next() as u8,
                    };
                    out.push(b);
                }
            }
        }
    }
    out.push(b'.');
    break_real_delimiters(&mut out, boundary);
    out
}

/// Pieces put side by side may form a real delimiter (`CRLF--boundary` then `--`,
/// CRLF, SP, HTAB or LF): found here by brute force, independently of the parser, and
/// broken by changing the byte after the boundary to 0x01.
fn break_real_delimiters(content: &mut [u8], boundary: &[u8]) {
    let mut pattern = b"\r\n--".to_vec();
    pattern.extend_from_slice(boundary);
    let p = pattern.len();
    for i in 0..content.len().saturating_sub(p) {
        if content[i..i + p] == pattern[..] {
            let tail = &content[i + p..];
            let real = tail.starts_with(b"--")
                || tail.starts_with(b"\r\n")
                || matches!(tail.first(), Some(b' ' | b'\t' | b'\n'));
            if real {
                content[i + p] = 0x01;
            }
        }
    }
}

#[test]
fn lookalike_content_passes_through_untouched() {
    let b70 = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.01234";
    assert_eq!(b70.len(), 70);
    let boundaries: [&[u8]; 5] = [b"b", b"ab", b"boundary", b"a'()+_,-./:=? z", b70];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for boundary in boundaries {
        let content = lookalikes(boundary, &mut rng, 600);
        let body = file_body(boundary, &content);
        let name = String::from_utf8_lossy(boundary).into_owned();
        let log =
            assert_split_property(&name, boundary, MultipartLimits::default(), &body, true, 40);
        assert_eq!(file_data(&log), content, "{name}");
    }
}

#[test]
fn a_long_body_split_randomly() {
    // 1 MiB of look-alikes and random bytes, in a form with fields around the file.
    let boundary = b"----WebKitFormBoundaryq1w2e3r4t5y6u7i8";
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let content = lookalikes(boundary, &mut rng, 1 << 20);
    let mut body = b"preamble\r\n--".to_vec();
    body.extend_from_slice(boundary);
    body.extend_from_slice(
        b"\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n",
    );
    let file = file_body(boundary, &content);
    body.extend_from_slice(&file);
    let limits = MultipartLimits::default();
    let whole = run(boundary, limits, [body.as_slice()]);
    match whole.as_slice() {
        [
            Logged::Begin(a),
            Logged::Data(alice),
            Logged::PartEnd,
            Logged::Begin(f),
            Logged::Data(data),
            Logged::PartEnd,
            Logged::End,
        ] => {
            assert_eq!(
                (a.name.as_str(), alice.as_slice()),
                ("username", &b"alice"[..])
            );
            assert_eq!(f.name, "f");
            assert!(data == &content, "file content differs");
        }
        other => panic!(
            "unexpected log {:?}",
            render(other)
                .iter()
                .map(|l| &l[..l.len().min(80)])
                .collect::<Vec<_>>()
        ),
    }
    // Reads of up to 64 KiB, and of up to 100 bytes (many boundary candidates cut).
    for (seed, max_piece, count) in [(1, 65536, 8), (2, 100, 2), (3, 7, 1)] {
        for (k, pieces) in random_splits(&body, seed, count, max_piece)
            .into_iter()
            .enumerate()
        {
            assert!(
                run(boundary, limits, pieces) == whole,
                "max piece {max_piece}, split #{k}"
            );
        }
    }
    assert!(
        run(boundary, limits, body.chunks(1)) == whole,
        "one byte at a time"
    );
}

#[test]
fn default_header_section_limit_at_n_and_n_plus_1_however_split() {
    let section = |len: usize| {
        let cd = b"Content-Disposition: form-data; name=f\r\n";
        let mut body = b"--b\r\n".to_vec();
        body.extend_from_slice(cd);
        let mut x = b"X: ".to_vec();
        x.resize(len - cd.len() - 2, b'x');
        body.extend_from_slice(&x);
        body.extend_from_slice(b"\r\n\r\nv\r\n--b--");
        body
    };
    let n = MAX_PART_HEADER_SECTION;
    let limits = MultipartLimits::default();
    let ok = assert_split_property("section N", b"b", limits, &section(n), false, 10);
    assert_eq!(ok.last(), Some(&Logged::End));
    let too_big = assert_split_property("section N+1", b"b", limits, &section(n + 1), false, 10);
    assert_eq!(
        render(&too_big),
        [format!(
            "error PartHeadersTooLarge {{ max: {n} }} byte {} status 400",
            5 + n
        )]
    );
}

#[test]
fn part_data_is_emitted_as_it_arrives() {
    // Fed one byte at a time, every data byte that cannot start a delimiter comes out
    // at once: a PartData per byte, except around CRs.
    let content = b"hello world, no carriage returns here";
    let body = file_body(b"b", content);
    let mut p = MultipartParser::new(b"b", MultipartLimits::default());
    let mut buf = Vec::new();
    let mut data_events = 0;
    for &byte in &body {
        buf.push(byte);
        loop {
            let step = p.feed(&buf).unwrap();
            if let Event::PartData(_) = step.event {
                data_events += 1;
            }
            buf.drain(..step.consumed);
            if matches!(step.event, Event::NeedData | Event::End) {
                break;
            }
        }
    }
    assert_eq!(data_events, content.len());
    assert_eq!(p.finish(), Ok(()));
}
