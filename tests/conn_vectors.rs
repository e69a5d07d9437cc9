//! The connection state machine ([`wirepost::http::conn::Conn`]) run from vectors, with
//! no socket and no sleep: time is an input (`time +30s`), as smoltcp writes it.
//!
//! Each `tests/vectors/conn_*.txt` is a script:
//!
//! - `> bytes` sends bytes (escapes `\r \n \t \\ \xHH`);
//! - `time +Ns` (or `+Nms`) moves the clock on and lets due timers run;
//! - `deadline` logs when the connection next wants to be looked at;
//! - `answer` sends the owed answer of a `/later` request;
//! - `< line` is what the log must say next.
//!
//! A tiny application decides by path: `/body/N` reads a body of at most N bytes and
//! answers `200` once it is in; `/reject` is refused from the head (403); `/later` is
//! answered only by `answer`; `/head-only` answers 204; anything else answers `200`
//! at once and its body, if any, is skipped (at most 16 bytes). Every vector runs fed
//! whole and byte by byte, and must log the same.

use std::path::Path;
use std::time::{Duration, Instant};
use wirepost::http::HeadLimits;
use wirepost::http::conn::{Conn, ConnEvent, Expired, Framed, Timeouts};
use wirepost::http::response::{CONTINUE_100, ResponseHead};

const SKIP_LIMIT: u64 = 16;

struct Driver {
    conn: Conn,
    buf: Vec<u8>,
    now: Instant,
    start: Instant,
    log: Vec<String>,
    body: u64,
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                c => panic!("unknown escape \\{}", c as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

impl Driver {
    fn new() -> Driver {
        let now = Instant::now();
        Driver {
            conn: Conn::new(HeadLimits::default(), Timeouts::default(), now),
            buf: Vec::new(),
            now,
            start: now,
            log: Vec::new(),
            body: 0,
        }
    }

    fn respond(&mut self, status: u16) {
        let head = ResponseHead::new(status);
        let mut out = Vec::new();
        let Framed { body, close } = self.conn.respond(
            &head,
            2,
            b"Thu, 01 Jan 2026 00:00:00 GMT",
            false,
            self.now,
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        let status_line = text.lines().next().unwrap().to_string();
        assert!(text.contains("\r\nDate: "), "{text}");
        self.log.push(format!(
            "response {status_line}{}{}",
            if close { " close" } else { " keep-alive" },
            if body { "" } else { " no-body" }
        ));
        assert_eq!(close, text.contains("\r\nConnection: close\r\n"), "{text}");
    }

    fn run(&mut self) {
        loop {
            let step = self.conn.receive(&self.buf, self.now);
            match step.event {
                ConnEvent::NeedData | ConnEvent::Blocked => {
                    self.buf.drain(..step.consumed);
                    return;
                }
                ConnEvent::Progress => {}
                ConnEvent::Head { len } => {
                    let head = self.conn.head(&self.buf[..len]);
                    let target = head.target().to_string();
                    self.log
                        .push(format!("head {} {}", head.method_str(), target));
                    self.buf.drain(..step.consumed);
                    self.decide(&target);
                    continue;
                }
                ConnEvent::Data(r) => {
                    let n = (r.end - r.start) as u64;
                    self.body += n;
                    match self.log.last_mut() {
                        Some(l) if l.starts_with("data ") => *l = format!("data {}", self.body),
                        _ => self.log.push(format!("data {}", self.body)),
                    }
                }
                ConnEvent::End => {
                    self.log.push("end".into());
                    self.buf.drain(..step.consumed);
                    self.respond(200);
                    continue;
                }
                ConnEvent::Refused(r) => {
                    self.log.push(format!("refused {} {r}", r.status()));
                    self.buf.drain(..step.consumed);
                    self.respond(r.status());
                    return;
                }
                ConnEvent::Close => {
                    self.log.push("close".into());
                    return;
                }
            }
            self.buf.drain(..step.consumed);
        }
    }

    fn decide(&mut self, target: &str) {
        self.body = 0;
        if let Some(limit) = target.strip_prefix("/body/") {
            let mut out = Vec::new();
            let started = !self.buf.is_empty();
            match self
                .conn
                .accept_body(limit.parse().unwrap(), started, self.now, &mut out)
            {
                Ok(()) => {
                    if out == CONTINUE_100 {
                        self.log.push("100-continue".into());
                    }
                }
                Err(r) => {
                    self.log.push(format!("refused {} {r}", r.status()));
                    self.respond(r.status());
                }
            }
        } else if target == "/reject" {
            self.conn.reject(self.now);
            self.respond(403);
        } else if target == "/later" {
            self.conn.ignore_body(SKIP_LIMIT, self.now);
        } else if target == "/head-only" {
            self.conn.ignore_body(SKIP_LIMIT, self.now);
            self.respond(204);
        } else {
            self.conn.ignore_body(SKIP_LIMIT, self.now);
            self.respond(200);
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        let input = self.buf.clone();
        match self.conn.handle_timeout(self.now, &input) {
            None => {}
            Some(Expired::Close) => self.log.push("timeout close".into()),
            Some(Expired::Answer(r)) => {
                self.log.push(format!("timeout {} {r}", r.status()));
                self.respond(r.status());
            }
        }
    }
}

fn duration(s: &str) -> Duration {
    let s = s.trim_start_matches('+');
    if let Some(ms) = s.strip_suffix("ms") {
        Duration::from_millis(ms.parse().unwrap())
    } else {
        Duration::from_secs_f64(s.strip_suffix('s').unwrap().parse().unwrap())
    }
}

/// Runs a script; `split` feeds each send one byte at a time. Returns the log and the
/// expected lines.
fn play(script: &str, split: bool) -> (Vec<String>, Vec<String>) {
    let mut d = Driver::new();
    let mut want = Vec::new();
    for line in script.lines() {
        if let Some(bytes) = line.strip_prefix("> ") {
            let bytes = unescape(bytes);
            if split {
                for b in bytes {
                    d.buf.push(b);
                    d.run();
                }
            } else {
                d.buf.extend_from_slice(&bytes);
                d.run();
            }
        } else if let Some(w) = line.strip_prefix("< ") {
            want.push(w.to_string());
        } else if let Some(t) = line.strip_prefix("time ") {
            d.advance(duration(t));
        } else if line == "deadline" {
            let at = d.conn.poll_timeout();
            d.log.push(match at {
                Some(at) => format!("deadline +{}s", at.duration_since(d.start).as_secs_f64()),
                None => "deadline none".into(),
            });
        } else if line == "answer" {
            d.respond(200);
            d.run();
        } else if line.is_empty() || line.starts_with('#') {
        } else {
            panic!("unknown script line {line:?}");
        }
    }
    (d.log, want)
}

#[test]
fn conn_vectors_give_their_log_whole_and_byte_by_byte() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("conn_") && name.ends_with(".txt")
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "found only {} conn vectors", paths.len());
    for path in paths {
        let script = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for split in [false, true] {
            let (got, want) = play(&script, split);
            assert_eq!(
                got,
                want,
                "{name} (fed {}):\n got: {got:#?}",
                if split { "byte by byte" } else { "whole" }
            );
        }
    }
}
