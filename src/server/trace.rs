//! `--trace`: each connection's life and bytes, with `\r` and `\n` made visible.
//!
//! ```text
//! 2026-12-03T13:25:00.123Z [127.0.0.1:50312 #3] open
//! 2026-12-03T13:25:00.124Z [127.0.0.1:50312 #3 <] GET /plaintext HTTP/1.1\r\n
//! 2026-12-03T13:25:00.124Z [127.0.0.1:50312 #3 <] Host: x\r\n
//! 2026-12-03T13:25:00.124Z [127.0.0.1:50312 #3 <] \r\n
//! 2026-12-03T13:25:00.124Z [127.0.0.1:50312 #3 >] HTTP/1.1 200 OK\r\n
//! ...
//! 2026-12-03T13:25:05.130Z [127.0.0.1:50312 #3] closed by the client (EOF)
//! ```
//! `<` is what the server read (shown as the parser takes it: a head when it is
//! complete, body bytes as they are consumed), `>` what it sends (shown when the
//! response is queued). Heads are shown whole; a body is cut after [`BODY_SHOWN`]
//! bytes and the rest counted (`… 31744 more bytes`). Bytes outside printable ASCII
//! show as `\xNN`; one output line per input line, so the shape of the message is
//! kept. Times are UTC with milliseconds; `#3` is the connection's number, unique in
//! the process.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Escape `bytes` as trace lines with the given prefix.
pub(crate) fn render(prefix: &str, bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 32);
    let mut at_line_start = true;
    for &b in bytes {
        if at_line_start {
            out.push_str(prefix);
            at_line_start = false;
        }
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => {
                out.push_str("\\n\n");
                at_line_start = true;
            }
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    if !at_line_start {
        out.push('\n');
    }
    out
}

/// Body bytes shown per message and direction; the rest is counted.
pub(crate) const BODY_SHOWN: usize = 1024;

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The client closed its side (read returned 0).
    ClientEof,
    /// The server, after a response that said `Connection: close`.
    ServerClose,
    /// A timer ran out (idle, header, body, a client that reads nothing, lingering).
    Timeout,
    /// A socket error (reset, broken pipe) or a failure in the server.
    Error,
    /// The server is stopping.
    Shutdown,
}

impl Closed {
    fn says(self) -> &'static str {
        match self {
            Closed::ClientEof => "closed by the client (EOF)",
            Closed::ServerClose => "closed by the server after `Connection: close`",
            Closed::Timeout => "closed by the server: timeout",
            Closed::Error => "closed: error",
            Closed::Shutdown => "closed by the server: shutting down",
        }
    }
}

/// How much of the current body one direction has shown and held back.
#[derive(Debug, Default)]
struct Cut {
    shown: usize,
    hidden: u64,
}

/// One connection's trace: prints to stderr, a line at a time with a timestamp.
#[derive(Debug)]
pub(crate) struct Tracer {
    /// `127.0.0.1:50312 #3`.
    who: String,
    incoming: Cut,
    outgoing: Cut,
}

impl Tracer {
    /// Start tracing a connection: prints its `open` line.
    pub(crate) fn open(peer: Option<SocketAddr>, id: usize) -> Tracer {
        let who = match peer {
            Some(p) => format!("{p} #{id}"),
            None => format!("#{id}"),
        };
        let t = Tracer {
            who,
            incoming: Cut::default(),
            outgoing: Cut::default(),
        };
        t.emit(&format!("{} [{}] open\n", stamp(), t.who));
        t
    }

    fn prefix(&self, incoming: bool) -> String {
        let dir = if incoming { '<' } else { '>' };
        format!("{} [{} {dir}] ", stamp(), self.who)
    }

    fn emit(&self, text: &str) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    fn cut(&mut self, incoming: bool) -> &mut Cut {
        if incoming {
            &mut self.incoming
        } else {
            &mut self.outgoing
        }
    }

    /// A message head (or bytes that are not a message: a refused head), whole. Ends
    /// the previous body of that direction.
    pub(crate) fn head(&mut self, incoming: bool, bytes: &[u8]) {
        self.end(incoming);
        if !bytes.is_empty() {
            self.emit(&render(&self.prefix(incoming), bytes));
        }
    }

    /// Body bytes (with their chunked framing, if any): shown up to [`BODY_SHOWN`]
    /// per message, the rest counted.
    pub(crate) fn body(&mut self, incoming: bool, bytes: &[u8]) {
        let cut = self.cut(incoming);
        let show = bytes.len().min(BODY_SHOWN - cut.shown);
        cut.shown += show;
        cut.hidden += (bytes.len() - show) as u64;
        if show > 0 {
            self.emit(&render(&self.prefix(incoming), &bytes[..show]));
        }
    }

    /// Body bytes that are sent without passing through memory (a file): counted.
    pub(crate) fn body_unseen(&mut self, incoming: bool, len: u64) {
        self.cut(incoming).hidden += len;
    }

    /// The message ends: say how much of its body was held back.
    pub(crate) fn end(&mut self, incoming: bool) {
        let hidden = std::mem::take(self.cut(incoming)).hidden;
        if hidden > 0 {
            self.emit(&format!("{}… {hidden} more bytes\n", self.prefix(incoming)));
        }
    }

    /// The connection is gone: ends both directions and says who closed it.
    pub(crate) fn closed(&mut self, why: Closed) {
        self.end(true);
        self.end(false);
        self.emit(&format!("{} [{}] {}\n", stamp(), self.who, why.says()));
    }
}

/// Now, as `2026-12-03T13:25:00.123Z`.
fn stamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let date = crate::http::date::utc_datetime(now.as_secs()).replacen(' ', "T", 1);
    format!("{date}.{:03}Z", now.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_are_visible() {
        assert_eq!(
            render("> ", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "> GET / HTTP/1.1\\r\\n\n> Host: x\\r\\n\n> \\r\\n\n"
        );
        assert_eq!(render("< ", b"a\x00\xff"), "< a\\x00\\xff\n");
        assert_eq!(render("< ", b"bare\nlf"), "< bare\\n\n< lf\n");
    }
}
