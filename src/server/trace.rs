//! `--trace`: each connection's bytes in and out, with `\r` and `\n` made visible.
//!
//! ```text
//! [127.0.0.1:50312 #3 <] GET /plaintext HTTP/1.1\r\n
//! [127.0.0.1:50312 #3 <] Host: x\r\n
//! [127.0.0.1:50312 #3 <] \r\n
//! [127.0.0.1:50312 #3 >] HTTP/1.1 200 OK\r\n
//! ```
//! `<` is what the server read, `>` what it wrote. Bytes outside printable ASCII show
//! as `\xNN`; one output line per input line, so the shape of the message is kept.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;

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

/// Print bytes read (`incoming`) or written on a connection to stderr.
pub(crate) fn trace(peer: Option<SocketAddr>, id: usize, incoming: bool, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let dir = if incoming { '<' } else { '>' };
    let prefix = match peer {
        Some(p) => format!("[{p} #{id} {dir}] "),
        None => format!("[#{id} {dir}] "),
    };
    let text = render(&prefix, bytes);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
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
