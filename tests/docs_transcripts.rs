//! The docs are tests: every transcript in `docs/*.md` and `README.md` is replayed
//! against a fresh server and its response compared byte for byte.
//!
//! A transcript is a fenced block whose info string starts with `http-request`,
//! followed (later in the same file, before the next `http-request`) by a block whose
//! info string starts with `http-response`. The format, documented for writers in
//! `docs/README.md`:
//!
//! - Each line of a block stands for the line's bytes followed by CRLF.
//! - A line ending in `<LF>` ends in a bare LF instead (the marker is not sent);
//!   a line ending in `<no-eol>` has no line ending at all (a body without a final
//!   newline).
//! - In response blocks, `<date>` matches an IMF-fixdate (`Date: <date>`), and `<any>`
//!   matches any run of bytes within one line (ETags, Last-Modified, cookies).
//!
//! The request bytes are sent in one write on a new connection to a new server (with
//! the repository's `www/`, a fresh data dir, default flags). The bytes received
//! must match the response block exactly: no byte more, no byte less. If the last
//! response says `Connection: close`, the server must then close.
//!
//! `WIREPOST_BLESS=1 cargo test --test docs_transcripts` rewrites every response
//! block from what the live server sends (with `Date` masked as `<date>`; a line that
//! already held a mask and still matches is kept as it was).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{Client, Server, escape};

/// Silence that ends a response which does not match (yet): the server has sent all
/// it is going to.
const SILENCE: Duration = Duration::from_secs(2);
/// How long to watch for bytes after the expected ones.
const EXTRA_WAIT: Duration = Duration::from_millis(200);

const LF_MARK: &str = "<LF>";
const NO_EOL_MARK: &str = "<no-eol>";
const DATE_MASK: &str = "<date>";
const ANY_MASK: &str = "<any>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
}

/// One fenced transcript block.
#[derive(Debug, Clone)]
struct Block {
    kind: Kind,
    /// 0-based index of the first content line in the file (after the opening fence).
    first_line: usize,
    /// The content lines (without the fences).
    lines: Vec<String>,
}

#[derive(Debug, Clone)]
struct Pair {
    file: PathBuf,
    request: Block,
    response: Block,
}

impl Pair {
    fn name(&self) -> String {
        format!(
            "{}:{}",
            self.file
                .strip_prefix(support::repo_root())
                .unwrap_or(&self.file)
                .display(),
            self.request.first_line // the opening fence's 1-based line number
        )
    }
}

/// The transcript blocks of one Markdown text, in order. Fences of other kinds (and
/// whatever they contain, such as an example of this format) are skipped.
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end_matches('\r');
        let trimmed = line.trim_start();
        let fence_char = trimmed.chars().next();
        if !matches!(fence_char, Some('`' | '~')) {
            i += 1;
            continue;
        }
        let fence_char = fence_char.unwrap();
        let fence_len = trimmed.chars().take_while(|&c| c == fence_char).count();
        if fence_len < 3 {
            i += 1;
            continue;
        }
        let info = trimmed[fence_len..].trim();
        let kind = match info.split_whitespace().next() {
            Some("http-request") => Some(Kind::Request),
            Some("http-response") => Some(Kind::Response),
            _ => None,
        };
        // Find the closing fence: at least as long, same character, nothing else.
        let mut j = i + 1;
        while j < lines.len() {
            let t = lines[j].trim_end_matches('\r').trim();
            if t.len() >= fence_len && t.chars().all(|c| c == fence_char) {
                break;
            }
            j += 1;
        }
        if let Some(kind) = kind {
            out.push(Block {
                kind,
                first_line: i + 1,
                lines: lines[i + 1..j.min(lines.len())]
                    .iter()
                    .map(|l| l.trim_end_matches('\r').to_string())
                    .collect(),
            });
        }
        i = j + 1;
    }
    out
}

/// Pair each request block with the response block after it.
fn pairs(file: &Path, text: &str) -> Result<Vec<Pair>, String> {
    let mut out = Vec::new();
    let mut pending: Option<Block> = None;
    for b in blocks(text) {
        match (b.kind, pending.take()) {
            (Kind::Request, None) => pending = Some(b),
            (Kind::Request, Some(prev)) => {
                return Err(format!(
                    "{}: the http-request block at line {} has no http-response block",
                    file.display(),
                    prev.first_line
                ));
            }
            (Kind::Response, Some(request)) => out.push(Pair {
                file: file.to_path_buf(),
                request,
                response: b,
            }),
            (Kind::Response, None) => {
                return Err(format!(
                    "{}: the http-response block at line {} follows no http-request block",
                    file.display(),
                    b.first_line
                ));
            }
        }
    }
    if let Some(prev) = pending {
        return Err(format!(
            "{}: the http-request block at line {} has no http-response block",
            file.display(),
            prev.first_line
        ));
    }
    Ok(out)
}

/// A line's text and its ending (`\r\n`, `\n` or nothing), per the markers.
fn split_marker(line: &str) -> (&str, &'static [u8]) {
    if let Some(text) = line.strip_suffix(LF_MARK) {
        (text, b"\n")
    } else if let Some(text) = line.strip_suffix(NO_EOL_MARK) {
        (text, b"")
    } else {
        (line, b"\r\n")
    }
}

/// The bytes a request block stands for.
fn request_bytes(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        let (text, end) = split_marker(line);
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(end);
    }
    out
}

/// Received bytes as lines, each with its ending.
fn byte_lines(bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &rest[..=i];
                let (text, end) = match line.strip_suffix(b"\r\n") {
                    Some(t) => (t, &line[line.len() - 2..]),
                    None => (&line[..i], &line[i..]),
                };
                out.push((text, end));
                rest = &rest[i + 1..];
            }
            None => {
                out.push((rest, &rest[rest.len()..]));
                rest = &[];
            }
        }
    }
    out
}

/// Render received bytes in the block format (Date masked).
fn render(bytes: &[u8]) -> Vec<String> {
    byte_lines(bytes)
        .into_iter()
        .map(|(text, end)| {
            let mut s = String::from_utf8_lossy(text).into_owned();
            if s.len() == 35 && s.starts_with("Date: ") && support::is_imf_fixdate(&s[6..]) {
                s = format!("Date: {DATE_MASK}");
            }
            match end {
                b"\r\n" => s,
                b"\n" => s + LF_MARK,
                _ => s + NO_EOL_MARK,
            }
        })
        .collect()
}

/// Whether `text` matches the pattern `pat` (literal bytes, `<date>`, `<any>`).
fn line_matches(pat: &[u8], text: &[u8]) -> bool {
    if let Some(rest) = pat.strip_prefix(ANY_MASK.as_bytes()) {
        return (0..=text.len()).any(|k| line_matches(rest, &text[k..]));
    }
    if let Some(rest) = pat.strip_prefix(DATE_MASK.as_bytes()) {
        return text.len() >= 29
            && std::str::from_utf8(&text[..29]).is_ok_and(support::is_imf_fixdate)
            && line_matches(rest, &text[29..]);
    }
    match (pat.first(), text.first()) {
        (None, None) => true,
        (Some(p), Some(t)) if p == t => line_matches(&pat[1..], &text[1..]),
        _ => false,
    }
}

/// Whether the received bytes match the response block exactly.
fn matches(template: &[String], bytes: &[u8]) -> bool {
    let got = byte_lines(bytes);
    got.len() == template.len()
        && template.iter().zip(got).all(|(line, (text, end))| {
            let (pat, want_end) = split_marker(line);
            want_end == end && line_matches(pat.as_bytes(), text)
        })
}

/// Whether the template's last response says `Connection: close`.
fn template_closes(template: &[String]) -> bool {
    let last_status = template
        .iter()
        .rposition(|l| l.starts_with("HTTP/1."))
        .unwrap_or(0);
    template[last_status..].iter().any(|l| {
        l.split_once(':').is_some_and(|(n, v)| {
            n.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close")
        })
    })
}

/// Send a request block to a fresh server; read until the bytes match `template`
/// (or, with no template, until the server falls silent or closes).
fn replay(request: &[u8], template: Option<&[String]>) -> Vec<u8> {
    let server = Server::start(&[]);
    let mut c: Client = server.connect();
    c.send(request);
    let mut got = Vec::new();
    let silence = if template.is_some() {
        SILENCE
    } else {
        Duration::from_millis(700)
    };
    let mut last = Instant::now();
    loop {
        if let Some(t) = template
            && matches(t, &got)
        {
            break;
        }
        match c.poll_for(Duration::from_millis(50)) {
            Some(0) => {
                got.extend(c.take_pending());
                return got; // closed
            }
            Some(_) => {
                got.extend(c.take_pending());
                last = Instant::now();
            }
            None if last.elapsed() > silence => return got,
            None => {}
        }
    }
    // Matched: nothing more may come, and a closing response must close.
    if c.poll_for(EXTRA_WAIT).is_some() {
        got.extend(c.take_pending());
        return got;
    }
    if template.is_some_and(template_closes) {
        let rest = c.read_to_eof();
        got.extend_from_slice(&rest);
    }
    got
}

/// Every Markdown file whose transcripts are tests.
fn doc_files() -> Vec<PathBuf> {
    let root = support::repo_root();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.push(root.join("README.md"));
    files.retain(|p| p.exists());
    files
}

#[test]
fn docs_transcripts_replay_byte_for_byte() {
    let bless = std::env::var_os("WIREPOST_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut count = 0;
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let pairs = match pairs(&file, &text) {
            Ok(p) => p,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let mut new_lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Replace from the end so earlier line numbers stay valid.
        for pair in pairs.iter().rev() {
            count += 1;
            let request = request_bytes(&pair.request.lines);
            if bless {
                let got = replay(&request, None);
                let mut fresh = render(&got);
                // Keep masked lines that still match.
                if fresh.len() == pair.response.lines.len() {
                    for (new, old) in fresh.iter_mut().zip(&pair.response.lines) {
                        let masked = old.contains(ANY_MASK) || old.contains(DATE_MASK);
                        if masked && matches(std::slice::from_ref(old), &request_bytes_line(new)) {
                            *new = old.clone();
                        }
                    }
                }
                let start = pair.response.first_line;
                let end = start + pair.response.lines.len();
                new_lines.splice(start..end, fresh);
                continue;
            }
            let got = replay(&request, Some(&pair.response.lines));
            if !matches(&pair.response.lines, &got) {
                failures.push(format!(
                    "{}: response differs.\n--- request sent:\n{}\n--- expected (block):\n{}\n--- got (as a block):\n{}\n",
                    pair.name(),
                    escape(&request),
                    pair.response.lines.join("\n"),
                    render(&got).join("\n")
                ));
            }
        }
        if bless {
            let mut out = new_lines.join("\n");
            if text.ends_with('\n') {
                out.push('\n');
            }
            if out != text {
                std::fs::write(&file, out).unwrap();
                eprintln!("blessed {}", file.display());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} transcripts failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 3, "expected transcripts in docs/, found {count}");
}

/// A rendered line back to bytes (for re-checking a mask while blessing).
fn request_bytes_line(line: &str) -> Vec<u8> {
    request_bytes(std::slice::from_ref(&line.to_string()))
}

// --- the format itself ---

#[test]
fn format_markers_round_trip() {
    let bytes = b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nline\nend";
    let lines = render(bytes);
    assert_eq!(
        lines,
        [
            "HTTP/1.1 200 OK",
            "Date: <date>",
            "",
            "line<LF>",
            "end<no-eol>"
        ]
    );
    assert!(matches(&lines, bytes));
    assert!(!matches(
        &lines,
        b"HTTP/1.1 200 OK\r\nDate: x\r\n\r\nline\nend"
    ));
    assert!(!matches(&lines, &[bytes.as_slice(), b"!"].concat()));
    let req = request_bytes(&["GET / HTTP/1.1".into(), "Host: x<LF>".into(), "".into()]);
    assert_eq!(req, b"GET / HTTP/1.1\r\nHost: x\n\r\n");
}

#[test]
fn format_any_mask() {
    let t = vec!["ETag: \"<any>\"".to_string(), "".to_string()];
    assert!(matches(&t, b"ETag: \"abc-123\"\r\n\r\n"));
    assert!(matches(&t, b"ETag: \"\"\r\n\r\n"));
    assert!(!matches(&t, b"ETag: abc\r\n\r\n"));
}

#[test]
fn format_blocks_and_pairs() {
    let md = "intro\n\n```http-request\nGET / HTTP/1.1\nHost: x\n\n```\n\ntext\n\n\
              ````markdown\n```http-request\nnot a test\n```\n````\n\n\
              ```http-response\nHTTP/1.1 200 OK\n\n```\n";
    let p = pairs(Path::new("x.md"), md).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].request.lines, ["GET / HTTP/1.1", "Host: x", ""]);
    assert_eq!(p[0].response.lines, ["HTTP/1.1 200 OK", ""]);
    assert!(pairs(Path::new("x.md"), "```http-request\nGET /\n```\n").is_err());
    assert!(
        pairs(
            Path::new("x.md"),
            "```http-response\nHTTP/1.1 200 OK\n```\n"
        )
        .is_err()
    );
}
