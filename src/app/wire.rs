//! The wire log: the last exchanges of every client, byte for byte, as the connection
//! layer saw them (SPEC "Seeing the exchange"; the page is `/wire/`, the "On the wire"
//! panel of every HTML page reads it too).
//!
//! Theory of operation. Each worker owns one [`Ring`] and is the only one that
//! writes it: after a response head is framed, the connection copies the request
//! head, the first KiB of the body and the response head in, over the oldest
//! exchange. Readers (`/wire/` and the pages' panel, on any worker) copy out their
//! client's exchanges. Each exchange's entry is a sequence lock over atomic words:
//! the writer never waits for a reader and takes no lock (on x86 its stores are plain
//! moves), and a reader that raced with a write sees it and reads again. (A mutex per
//! ring that the writer only tried cost pipelined `/plaintext` 13% of its CPU per
//! request, for its two locked instructions: docs/performance.md.)
//!
//! Bounds: at most [`EXCHANGES`] exchanges kept over all workers (each ring
//! `EXCHANGES / workers`), each at most [`EXCHANGE_BYTES`] (a longer request head is
//! cut, and says how much was cut), so the log holds about 2 MiB (allocated at
//! start) whatever clients send.
//!
//! Secrets: the slots hold the bytes as they were; what leaves them is shown by
//! [`shown_head`] and [`shown_body`]: a `sessionid` value cut to 6 characters
//! (SPEC), and — because everyone behind one address reads the same log — the
//! credentials of an `Authorization` field and the value of a `password` form field
//! hidden too.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};

/// Exchanges kept over all workers (SPEC).
pub(crate) const EXCHANGES: usize = 256;
/// Bytes kept of one exchange: request head, body start and response head (SPEC).
pub(crate) const EXCHANGE_BYTES: usize = 8 * 1024;
/// Bytes kept of a body (shown when it is text).
pub(crate) const BODY_BYTES: usize = 1024;

/// What the connection layer hands over for one exchange (borrowed: copied into the
/// slot).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub peer: Option<SocketAddr>,
    /// The connection's number (unique across workers).
    pub conn: usize,
    /// The request's number on its connection, from 1.
    pub request: u32,
    /// When the request's head was complete, in Unix milliseconds.
    pub time_ms: u64,
    /// The request head as received (as far as it came, for a refused one).
    pub request_head: &'a [u8],
    /// The body's length (de-chunked), and its first bytes as far as they are at hand.
    pub body_bytes: u64,
    pub body_start: &'a [u8],
    /// The response head exactly as framed.
    pub response_head: &'a [u8],
}

/// One recorded exchange, copied out of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exchange {
    pub conn: u64,
    pub request: u32,
    pub time_ms: u64,
    pub request_head: Vec<u8>,
    /// Bytes of the request head not kept (past [`EXCHANGE_BYTES`]).
    pub request_cut: usize,
    pub body_bytes: u64,
    /// The first bytes of the body (at most [`BODY_BYTES`]).
    pub body_start: Vec<u8>,
    pub response_head: Vec<u8>,
}

impl Exchange {
    /// Newest last: by time (ms), then connection and request number. Exchanges of one
    /// millisecond on two connections (a browser's parallel fetches) are concurrent;
    /// they go by connection number, the order in which the connections opened.
    fn order(&self) -> (u64, u64, u32) {
        (self.time_ms, self.conn, self.request)
    }
}

#[cfg(test)]
impl Exchange {
    /// The request line's target (`/cart/`).
    pub(crate) fn target(&self) -> &[u8] {
        target(&self.request_head)
    }
}

/// Words of one exchange's bytes at most.
const WORDS: usize = EXCHANGE_BYTES / 8;

/// The meta words of an entry: the address (kind 0 none, 4 or 6; its bits in two
/// words), connection, request, time, body length, the three lengths packed, the
/// bytes of the request head that were cut, and where its bytes start in the ring.
const IP_KIND: usize = 0;
const IP_HI: usize = 1;
const IP_LO: usize = 2;
const CONN: usize = 3;
const REQUEST: usize = 4;
const TIME: usize = 5;
const BODY: usize = 6;
const LENS: usize = 7;
const CUT: usize = 8;
const DATA_AT: usize = 9;
const META: usize = 10;

/// An address as three words (kind, high, low), to compare without decoding.
fn ip_words(ip: Option<IpAddr>) -> [u64; 3] {
    match ip {
        None => [0, 0, 0],
        Some(IpAddr::V4(a)) => [4, 0, u64::from(u32::from(a))],
        Some(IpAddr::V6(a)) => {
            let bits = u128::from(a);
            [6, (bits >> 64) as u64, bits as u64]
        }
    }
}

/// One exchange's entry in a ring: a sequence lock over its meta words (and, by the
/// ring's sizing, over its bytes in the ring's data).
struct Entry {
    /// Even: the entry holds a whole exchange (0: none yet); odd: being written.
    seq: AtomicU64,
    meta: [AtomicU64; META],
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("seq", &self.seq.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Entry {
    fn meta(&self, i: usize) -> u64 {
        self.meta[i].load(Ordering::Relaxed)
    }

    fn is_of(&self, ip: &[u64; 3]) -> bool {
        self.meta(IP_KIND) == ip[0] && self.meta(IP_HI) == ip[1] && self.meta(IP_LO) == ip[2]
    }

    fn order(&self) -> (u64, u64, u32) {
        (self.meta(TIME), self.meta(CONN), self.meta(REQUEST) as u32)
    }
}

/// `bytes` into `words[at..]`, 8 to a word (the last one padded); the words used.
/// (Words are built with loads and shifts: a `copy_from_slice` of the few last
/// bytes would be a call to `memcpy` per exchange.)
fn put(words: &[AtomicU64], at: usize, bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut i = at;
    for (c, w) in (&mut chunks).zip(&words[at..]) {
        let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        w.store(word, Ordering::Relaxed);
        i += 1;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let word = rest
            .iter()
            .rev()
            .fold(0u64, |word, &b| word << 8 | u64::from(b));
        words[i].store(word, Ordering::Relaxed);
        i += 1;
    }
    i - at
}

/// `len` bytes from `words[at..]` (nothing if that runs past the end: lengths read
/// while the writer was at work).
fn get(words: &[AtomicU64], at: usize, len: usize) -> Vec<u8> {
    let Some(src) = words.get(at..at + len.div_ceil(8)) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(len.next_multiple_of(8));
    for w in src {
        out.extend_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One worker's part of the log, written by that worker alone: a ring of entries,
/// and the exchanges' bytes one after the other in a ring of words.
///
/// The bytes are appended where the last exchange's ended (wrapping to the start
/// when an exchange would not fit before the end), so recording writes memory that
/// was written a moment ago: a few hundred bytes of a cache-warm region, not a cold
/// 8 KiB slot (fixed slots cost pipelined `/plaintext` several percent of its CPU).
/// The data ring holds `entries + 2` exchanges of the largest size, so an exchange's
/// bytes are overwritten only by the second exchange after the one that took over
/// its entry: a reader that checks the entry's sequence after copying the bytes
/// knows they were whole (see [`Ring::read`]).
///
/// Every access is an atomic load or store of a word (plain moves on x86): no
/// `unsafe`, no lock, and the writer never waits.
#[derive(Debug)]
pub(crate) struct Ring {
    entries: Box<[Entry]>,
    data: Box<[AtomicU64]>,
    /// The entry the next exchange takes (only the writer moves it).
    next: AtomicUsize,
    /// The word where the next exchange's bytes go (only the writer moves it).
    write_at: AtomicUsize,
}

impl Ring {
    fn new(entries: usize) -> Ring {
        let entries = entries.max(1);
        Ring {
            entries: (0..entries)
                .map(|_| Entry {
                    seq: AtomicU64::new(0),
                    meta: std::array::from_fn(|_| AtomicU64::new(0)),
                })
                .collect(),
            data: (0..(entries + 2) * WORDS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            next: AtomicUsize::new(0),
            write_at: AtomicUsize::new(0),
        }
    }

    /// Copy one exchange in, over the oldest. Called by the ring's worker only: the
    /// entry's sequence goes odd, its meta and bytes are stored, it goes even again.
    pub(crate) fn record(&self, r: &Record<'_>) {
        let index = self.next.load(Ordering::Relaxed);
        self.next
            .store((index + 1) % self.entries.len(), Ordering::Relaxed);
        let entry = &self.entries[index];
        let response = &r.response_head[..r.response_head.len().min(EXCHANGE_BYTES / 2)];
        let body = &r.body_start[..r.body_start.len().min(BODY_BYTES)];
        let room =
            EXCHANGE_BYTES - response.len().next_multiple_of(8) - body.len().next_multiple_of(8);
        let request = &r.request_head[..r.request_head.len().min(room)];
        let words = request.len().div_ceil(8) + body.len().div_ceil(8) + response.len().div_ceil(8);
        let mut at = self.write_at.load(Ordering::Relaxed);
        if at + words > self.data.len() {
            at = 0;
        }
        self.write_at.store(at + words, Ordering::Relaxed);

        let seq = entry.seq.load(Ordering::Relaxed);
        entry.seq.store(seq + 1, Ordering::Relaxed);
        // Orders the odd sequence before the stores below, for a reader that sees any
        // of them (its acquire fence pairs with this one).
        fence(Ordering::Release);
        let [kind, hi, lo] = ip_words(r.peer.map(|p| p.ip()));
        let lens = request.len() as u64 | (body.len() as u64) << 16 | (response.len() as u64) << 32;
        for (i, v) in [
            (IP_KIND, kind),
            (IP_HI, hi),
            (IP_LO, lo),
            (CONN, r.conn as u64),
            (REQUEST, u64::from(r.request)),
            (TIME, r.time_ms),
            (BODY, r.body_bytes),
            (LENS, lens),
            (CUT, (r.request_head.len() - request.len()) as u64),
            (DATA_AT, at as u64),
        ] {
            entry.meta[i].store(v, Ordering::Relaxed);
        }
        let mut w = at;
        w += put(&self.data, w, request);
        w += put(&self.data, w, body);
        put(&self.data, w, response);
        entry.seq.store(seq + 2, Ordering::Release);
    }

    /// A copy of entry `e`'s exchange if it is of `ip`; `None` too if the writer kept
    /// rewriting it while it was read (it is then no longer the one asked for).
    fn read(&self, e: &Entry, ip: &[u64; 3]) -> Option<Exchange> {
        for _ in 0..3 {
            let before = e.seq.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let lens = e.meta(LENS);
            let (request_len, body_len, response_len) = (
                (lens & 0xffff) as usize,
                (lens >> 16 & 0xffff) as usize,
                (lens >> 32 & 0xffff) as usize,
            );
            let at = e.meta(DATA_AT) as usize;
            let body_at = at + request_len.div_ceil(8);
            let response_at = body_at + body_len.div_ceil(8);
            let exchange = e.is_of(ip).then(|| Exchange {
                conn: e.meta(CONN),
                request: e.meta(REQUEST) as u32,
                time_ms: e.meta(TIME),
                request_head: get(&self.data, at, request_len),
                request_cut: e.meta(CUT) as usize,
                body_bytes: e.meta(BODY),
                body_start: get(&self.data, body_at, body_len),
                response_head: get(&self.data, response_at, response_len),
            });
            fence(Ordering::Acquire);
            if e.seq.load(Ordering::Relaxed) == before {
                return exchange;
            }
        }
        None
    }

    /// Copy out the exchanges of `ip` (those with no address, for `None`) that `keep`
    /// takes; with `newest`, only the newest of them.
    fn of(
        &self,
        ip: Option<IpAddr>,
        keep: &dyn Fn(&[u8]) -> bool,
        newest: bool,
        out: &mut Vec<Exchange>,
    ) {
        let ip = ip_words(ip);
        if !newest {
            out.extend(
                self.entries
                    .iter()
                    .filter_map(|e| self.read(e, &ip))
                    .filter(|x| keep(&x.request_head)),
            );
            return;
        }
        // Only the one that is shown is copied (a page asks on every request); the
        // order is read without copying (and checked by the copy).
        let mut mine: Vec<((u64, u64, u32), &Entry)> = self
            .entries
            .iter()
            .filter(|e| e.seq.load(Ordering::Acquire) != 0 && e.is_of(&ip))
            .map(|e| (e.order(), e))
            .collect();
        mine.sort_by_key(|(order, _)| std::cmp::Reverse(*order));
        out.extend(
            mine.into_iter()
                .filter_map(|(_, e)| self.read(e, &ip))
                .find(|x| keep(&x.request_head)),
        );
    }
}

/// The log of every worker (see the module's comment). With recording off, there are
/// no rings and the pages say so.
#[derive(Debug)]
pub(crate) struct WireLog {
    rings: Vec<Ring>,
}

impl WireLog {
    /// A log for `workers` workers (recording off: `enabled` false).
    pub(crate) fn new(workers: usize, enabled: bool) -> WireLog {
        let workers = workers.max(1);
        let per_ring = (EXCHANGES / workers).max(1);
        WireLog {
            rings: if enabled {
                (0..workers).map(|_| Ring::new(per_ring)).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Off: no ring (until the server sets one up, and with `--wire-log=off`).
    pub(crate) fn off() -> WireLog {
        WireLog { rings: Vec::new() }
    }

    pub(crate) fn enabled(&self) -> bool {
        !self.rings.is_empty()
    }

    /// Worker `i`'s ring (`None` when recording is off).
    pub(crate) fn ring(&self, i: usize) -> Option<&Ring> {
        self.rings.get(i)
    }

    /// The exchanges of the client at `ip`, newest first.
    pub(crate) fn of(&self, ip: Option<IpAddr>) -> Vec<Exchange> {
        let mut out = Vec::new();
        for ring in &self.rings {
            ring.of(ip, &|_| true, false, &mut out);
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.order()));
        out
    }

    /// The newest exchange of `ip` that a page's "previous exchange" shows: not a
    /// `/static/` file or the icon, which a browser fetches in between on its own.
    pub(crate) fn previous_page(&self, ip: Option<IpAddr>) -> Option<Exchange> {
        let page = |head: &[u8]| {
            let t = target(head);
            !t.starts_with(b"/static/") && t != b"/favicon.ico"
        };
        let mut newest = Vec::with_capacity(self.rings.len());
        for ring in &self.rings {
            ring.of(ip, &page, true, &mut newest);
        }
        newest.into_iter().max_by_key(Exchange::order)
    }
}

/// The request line's target in a request head (`/cart/`).
fn target(head: &[u8]) -> &[u8] {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    line.split(|&b| b == b' ').nth(1).unwrap_or_default()
}

/// How much of a secret value a page shows (SPEC: a `sessionid`, 6 characters).
const SHOWN: usize = crate::app::view::SHOWN_ID_CHARS;

/// A head's bytes as a page shows them: as they were, but the value of a `sessionid`
/// cookie (in `Cookie` and `Set-Cookie`) cut to 6 characters and `…`, and an
/// `Authorization` field's credentials likewise. Bytes that are not UTF-8 are shown
/// as U+FFFD.
pub(crate) fn shown_head(head: &[u8]) -> String {
    let mut out = String::with_capacity(head.len());
    for line in head.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let Some((name, value)) = text.split_once(':') else {
            out.push_str(&text);
            continue;
        };
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "cookie" => {
                out.push_str(name);
                out.push(':');
                let (value, end) = split_line_end(value);
                out.push_str(&crate::app::view::shown_cookie_field(value));
                out.push_str(end);
            }
            "set-cookie" => {
                out.push_str(name);
                out.push(':');
                out.push_str(&shown_set_cookie(value));
            }
            "authorization" | "proxy-authorization" => {
                out.push_str(name);
                out.push(':');
                out.push_str(&cut_credentials(value));
            }
            _ => out.push_str(&text),
        }
    }
    out
}

/// `Set-Cookie: sessionid=abcdef…; Path=/`: the value of a `sessionid` cut.
fn shown_set_cookie(field: &str) -> String {
    let (pair, attrs) = match field.find(';') {
        Some(i) => field.split_at(i),
        None => (field, ""),
    };
    match pair.split_once('=') {
        Some((name, value)) if name.trim() == crate::app::session::COOKIE => {
            let (value, end) = split_line_end(value);
            if value.is_empty() {
                return field.to_string();
            }
            let cut: String = value.chars().take(SHOWN).collect();
            if attrs.is_empty() {
                format!("{name}={cut}…{end}")
            } else {
                format!("{name}={cut}…{attrs}")
            }
        }
        _ => field.to_string(),
    }
}

/// ` Basic dXNlcjpw…`: the scheme, and 6 characters of the credentials.
fn cut_credentials(value: &str) -> String {
    let (value, end) = split_line_end(value);
    let trimmed = value.trim_start();
    let lead = &value[..value.len() - trimmed.len()];
    match trimmed.split_once(' ') {
        Some((scheme, cred)) if !cred.is_empty() => {
            let cut: String = cred.chars().take(SHOWN).collect();
            format!("{lead}{scheme} {cut}…{end}")
        }
        _ if !trimmed.is_empty() => {
            let cut: String = trimmed.chars().take(SHOWN).collect();
            format!("{lead}{cut}…{end}")
        }
        _ => format!("{value}{end}"),
    }
}

/// `("value", "\r\n")` from `"value\r\n"`.
fn split_line_end(s: &str) -> (&str, &str) {
    let body = s.trim_end_matches(['\r', '\n']);
    (body, &s[body.len()..])
}

/// The start of a body as a page shows it: the text, when it is UTF-8 (cut at the
/// last whole character) without control bytes but tab, CR and LF; `None` for
/// binary. A `password` field of a form has its value hidden.
pub(crate) fn shown_body(start: &[u8], total: u64) -> Option<String> {
    if start.is_empty() {
        return None;
    }
    let text = match std::str::from_utf8(start) {
        Ok(t) => t,
        // Cut mid-character at the 1 KiB mark (more bytes followed).
        Err(e) if e.error_len().is_none() && (start.len() as u64) < total => {
            std::str::from_utf8(&start[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return None;
    }
    Some(hide_passwords(text))
}

/// `username=ada&password=•••`: the value of every `password`-named urlencoded field
/// (and `password=` wherever a pair starts) replaced.
fn hide_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, pair) in text.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if name.contains("password") && !value.is_empty() => {
                out.push_str(name);
                out.push_str("=•••");
            }
            _ => out.push_str(pair),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(peer: &str, conn: usize, request: u32, head: &'a [u8]) -> Record<'a> {
        Record {
            peer: Some(peer.parse().unwrap()),
            conn,
            request,
            time_ms: 1_700_000_000_000 + request as u64,
            request_head: head,
            body_bytes: 0,
            body_start: b"",
            response_head: b"HTTP/1.1 200 OK\r\n\r\n",
        }
    }

    #[test]
    fn a_client_sees_its_own_exchanges_newest_first() {
        let log = WireLog::new(1, true);
        let ring = log.ring(0).unwrap();
        ring.record(&record("10.0.0.1:5000", 1, 1, b"GET /a HTTP/1.1\r\n\r\n"));
        ring.record(&record(
            "10.0.0.2:6000",
            2,
            1,
            b"GET /other HTTP/1.1\r\n\r\n",
        ));
        ring.record(&record("10.0.0.1:5001", 3, 2, b"GET /b HTTP/1.1\r\n\r\n"));
        let got = log.of(Some("10.0.0.1".parse().unwrap()));
        let targets: Vec<&[u8]> = got.iter().map(Exchange::target).collect();
        assert_eq!(targets, [&b"/b"[..], b"/a"]);
        assert_eq!((got[0].conn, got[0].request), (3, 2));
        assert_eq!(got[1].response_head, b"HTTP/1.1 200 OK\r\n\r\n");
    }

    #[test]
    fn the_log_keeps_the_newest_exchanges_of_its_bound() {
        let log = WireLog::new(2, true);
        for i in 0..1000u32 {
            let head = format!("GET /{i} HTTP/1.1\r\n\r\n");
            log.ring((i % 2) as usize).unwrap().record(&record(
                "10.0.0.1:1",
                1,
                i,
                head.as_bytes(),
            ));
        }
        let got = log.of(Some("10.0.0.1".parse().unwrap()));
        assert_eq!(got.len(), EXCHANGES);
        assert_eq!(got[0].target(), b"/999");
        assert_eq!(got[EXCHANGES - 1].target(), b"/744");
    }

    #[test]
    fn an_exchange_is_cut_to_its_bound_and_says_how_much_was_cut() {
        let log = WireLog::new(1, true);
        let head = vec![b'a'; 20_000];
        let body = vec![b'b'; 5000];
        let mut r = record("10.0.0.1:1", 1, 1, &head);
        r.body_bytes = 5000;
        r.body_start = &body;
        log.ring(0).unwrap().record(&r);
        let e = &log.of(Some("10.0.0.1".parse().unwrap()))[0];
        let kept = e.request_head.len() + e.body_start.len() + e.response_head.len();
        // Each part starts at a word: up to 7 bytes of padding after the others.
        assert!(
            (EXCHANGE_BYTES - 14..=EXCHANGE_BYTES).contains(&kept),
            "{kept}"
        );
        assert_eq!(e.body_start.len(), BODY_BYTES);
        assert_eq!(e.request_cut, 20_000 - e.request_head.len());
        assert_eq!(e.body_bytes, 5000);
    }

    #[test]
    fn the_data_ring_never_overwrites_an_exchange_still_kept() {
        // Sizes that waste the end of the data ring when it wraps: a half-size
        // exchange, then full-size ones. The 4 kept must read back byte for byte.
        let log = WireLog::new(64, true); // 4 entries
        let ring = log.ring(0).unwrap();
        let heads: Vec<Vec<u8>> = [4096, 8000, 8000, 8000, 8000, 8000, 3000, 8000]
            .iter()
            .enumerate()
            .map(|(i, &len)| vec![b'a' + i as u8; len])
            .collect();
        for (i, head) in heads.iter().enumerate() {
            ring.record(&record("10.0.0.1:1", 1, i as u32, head));
            let kept = log.of(Some("10.0.0.1".parse().unwrap()));
            assert_eq!(kept.len(), (i + 1).min(4));
            for e in kept {
                assert!(
                    e.request_head == heads[e.request as usize],
                    "exchange {} was overwritten",
                    e.request
                );
            }
        }
    }

    #[test]
    fn a_reader_racing_the_writer_never_sees_a_torn_exchange() {
        // The writer overwrites 4 slots as fast as it can; readers copy them out at
        // the same time. Every exchange read must be whole: its request head, body
        // and response head all name the same request number.
        let log = std::sync::Arc::new(WireLog::new(64, true));
        let writer = {
            let log = std::sync::Arc::clone(&log);
            std::thread::spawn(move || {
                let ring = log.ring(0).unwrap();
                for i in 0..200_000u32 {
                    // Now and then one near the bound, so the data ring wraps often.
                    let pad = if i % 7 == 0 { 7000 } else { i as usize % 300 };
                    let head = format!("GET /{i} HTTP/1.1\r\nX-Pad: {}\r\n\r\n", "p".repeat(pad));
                    let body = format!("body {i}");
                    let resp = format!("HTTP/1.1 200 OK\r\nX-N: {i}\r\n\r\n");
                    let mut r = record("10.0.0.1:1", 1, i, head.as_bytes());
                    r.body_start = body.as_bytes();
                    r.body_bytes = body.len() as u64;
                    r.response_head = resp.as_bytes();
                    ring.record(&r);
                }
            })
        };
        let mut seen = 0;
        while !writer.is_finished() {
            for e in log.of(Some("10.0.0.1".parse().unwrap())) {
                let n = e.request;
                assert_eq!(e.target(), format!("/{n}").as_bytes());
                assert_eq!(e.body_start, format!("body {n}").as_bytes());
                assert_eq!(
                    e.response_head,
                    format!("HTTP/1.1 200 OK\r\nX-N: {n}\r\n\r\n").as_bytes()
                );
                seen += 1;
            }
        }
        writer.join().unwrap();
        assert!(seen > 0);
        // At rest, the 4 newest are there, whole, newest first.
        let last = log.of(Some("10.0.0.1".parse().unwrap()));
        let numbers: Vec<u32> = last.iter().map(|e| e.request).collect();
        assert_eq!(numbers, [199_999, 199_998, 199_997, 199_996]);
        for e in &last {
            assert_eq!(e.target(), format!("/{}", e.request).as_bytes());
        }
    }

    #[test]
    fn the_previous_page_skips_what_a_browser_fetches_on_its_own() {
        let log = WireLog::new(1, true);
        let ring = log.ring(0).unwrap();
        ring.record(&record(
            "10.0.0.1:1",
            1,
            1,
            b"POST /cart/add/ HTTP/1.1\r\n\r\n",
        ));
        ring.record(&record(
            "10.0.0.1:1",
            1,
            2,
            b"GET /static/style.css HTTP/1.1\r\n\r\n",
        ));
        ring.record(&record(
            "10.0.0.1:1",
            1,
            3,
            b"GET /favicon.ico HTTP/1.1\r\n\r\n",
        ));
        let prev = log
            .previous_page(Some("10.0.0.1".parse().unwrap()))
            .unwrap();
        assert_eq!(prev.target(), b"/cart/add/");
    }

    #[test]
    fn recording_off_keeps_nothing() {
        let log = WireLog::new(4, false);
        assert!(!log.enabled());
        assert!(log.ring(0).is_none());
    }

    #[test]
    fn secrets_are_cut_in_shown_heads() {
        let cases: &[(&str, &str)] = &[
            (
                "Cookie: a=1; sessionid=0123456789abcdef\r\n",
                "Cookie: a=1; sessionid=012345…\r\n",
            ),
            (
                "Set-Cookie: sessionid=0123456789abcdef; HttpOnly; Path=/\r\n",
                "Set-Cookie: sessionid=012345…; HttpOnly; Path=/\r\n",
            ),
            (
                "Set-Cookie: sessionid=0123456789abcdef\r\n",
                "Set-Cookie: sessionid=012345…\r\n",
            ),
            // Deleting the cookie shows the empty value as it is.
            (
                "Set-Cookie: sessionid=; Max-Age=0\r\n",
                "Set-Cookie: sessionid=; Max-Age=0\r\n",
            ),
            (
                "Set-Cookie: history=3.2.1; Path=/\r\n",
                "Set-Cookie: history=3.2.1; Path=/\r\n",
            ),
            (
                "Authorization: Basic dXNlcjpwYXNz\r\n",
                "Authorization: Basic dXNlcj…\r\n",
            ),
            ("authorization: Bearer\n", "authorization: Bearer…\n"),
            ("GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n"),
            ("Host: x\r\n\r\n", "Host: x\r\n\r\n"),
        ];
        for (raw, shown) in cases {
            assert_eq!(shown_head(raw.as_bytes()), *shown, "{raw:?}");
        }
    }

    #[test]
    fn bodies_are_shown_when_text_with_passwords_hidden() {
        assert_eq!(
            shown_body(b"username=ada&password=hunter22&remember=1", 41).as_deref(),
            Some("username=ada&password=•••&remember=1")
        );
        assert_eq!(
            shown_body(b"{\"a\": 1}\n", 9).as_deref(),
            Some("{\"a\": 1}\n")
        );
        assert_eq!(shown_body(b"\x89PNG\r\n\x1a\n", 8), None);
        assert_eq!(shown_body(b"", 0), None);
        // Cut mid-character at the KiB mark: the whole characters before it.
        let mut long = vec![b'a'; 1023];
        long.push(0xc3);
        assert_eq!(shown_body(&long, 2000).map(|s| s.len()), Some(1023));
        // Invalid UTF-8 in a body that ends there: binary.
        assert_eq!(shown_body(&long, 1024), None);
    }
}
