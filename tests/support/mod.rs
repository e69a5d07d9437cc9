//! Test harness: a real `wirepost` process on a free port, and a raw-byte client.
//!
//! [`Server::start`] spawns the binary Cargo built for this test run with
//! `--addr 127.0.0.1:0 --www <repo>/www --data <fresh dir under target/> --docs
//! <repo>/docs` plus the test's own flags, waits (at most [`START_TIMEOUT`]) for the line on stdout that
//! carries `http://127.0.0.1:PORT/`, and kills the process when dropped. The server's
//! stderr (the access log) goes to a file that is printed if the test fails.
//!
//! [`Client`] speaks raw bytes: [`Client::send`] writes exactly what it is given, and
//! [`Client::read_response`] parses exactly one response (status line, headers, body
//! framed by `Content-Length`, by chunked coding, or by the end of the stream), leaving
//! any bytes after it for the next call, so pipelined answers can be read one by one.
//! Every read has a timeout ([`READ_TIMEOUT`]), so a test never hangs: it fails, and
//! says what it had received so far.
//!
//! Every response read is checked against the SPEC rules that hold for all responses
//! ([`Response::check_common`]): `Date`, `Server`, and `Content-Length` or chunked.
#![allow(dead_code)]

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the server may take to print its URL.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long any single read from the server may block.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The repository root (where `Cargo.toml`, `www/` and `docs/` are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty directory under `target/` (Cargo's tmp dir for integration tests).
pub fn temp_dir(tag: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{tag}-{}-{n}-{nanos}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Copy a directory tree (files and directories; symlinks are followed).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).expect("copy file");
        }
    }
}

/// Bytes as a Rust-ish string literal body, so `\r\n` shows in failure messages.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => s.push_str("\\r"),
                '\n' => s.push_str("\\n\n"),
                '\t' => s.push_str("\\t"),
                c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// A running `wirepost` process.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    /// The temp dir holding `data/` and `server.log`.
    pub dir: PathBuf,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Start the server with the repository's `www/` and a fresh data dir, plus `args`.
    pub fn start(args: &[&str]) -> Server {
        Server::start_with_www(&repo_root().join("www"), args)
    }

    /// Start the server with another `--www` directory.
    pub fn start_with_www(www: &Path, args: &[&str]) -> Server {
        let dir = temp_dir("server");
        let data = dir.join("data");
        fs::create_dir_all(&data).expect("create data dir");
        let log = dir.join("server.log");
        let log_file = fs::File::create(&log).expect("create server.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirepost"));
        cmd.arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--www")
            .arg(www)
            .arg("--data")
            .arg(&data)
            .arg("--docs")
            .arg(repo_root().join("docs"))
            .args(args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        // The tests say every flag they rely on: none may come from the environment.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("WIREPOST_") {
                cmd.env_remove(key);
            }
        }
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        let mut child = cmd.spawn().expect("spawn the wirepost binary");
        let stdout = child.stdout.take().expect("piped stdout");

        // Read stdout on a thread (a pipe read cannot time out); keep draining it after
        // the URL line so that a chatty server (--trace) never blocks on a full pipe.
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let _ = tx.send(line.clone());
                    }
                }
            }
        });

        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = String::new();
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    if let Some(addr) = parse_listen_line(&line) {
                        break addr;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "wirepost printed no `http://127.0.0.1:PORT/` line within {START_TIMEOUT:?}\n\
                         stdout so far: {seen:?}\nstderr:\n{}",
                        fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait();
                    panic!(
                        "wirepost exited ({status:?}) before printing its URL\n\
                         stdout: {seen:?}\nstderr:\n{}",
                        fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        };
        Server {
            addr,
            base_url: format!("http://{addr}"),
            dir,
            child,
            log,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A new raw connection.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Send `request` on a new connection and read one response (to a non-HEAD request).
    pub fn request(&self, request: &[u8]) -> Response {
        let mut c = self.connect();
        c.send(request);
        c.read_response()
    }

    /// The server's stderr so far (the access log, warnings).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send a signal by name (`TERM`, `INT`, `KILL`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// Wait up to `timeout` for the process to exit; its exit status, or `None` if it
    /// is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- wirepost stderr (last {} lines of {}) ---",
                tail.len(),
                self.log.display()
            );
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The address in a line like `wirepost listening on http://127.0.0.1:40123/`.
fn parse_listen_line(line: &str) -> Option<SocketAddr> {
    let start = line.find("http://")? + "http://".len();
    let rest = &line[start..];
    let end = rest.find(['/', ' ', '\n', '\r']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// One parsed response, with the exact bytes it came in.
#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Every byte of the response as received (head, framing and body).
    pub raw: Vec<u8>,
    /// Whether the body came in chunked coding.
    pub chunked: bool,
    /// Whether some line of the head ended in a bare LF instead of CRLF.
    pub bare_lf: bool,
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header of that name, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the `Connection` header holds the `close` option.
    pub fn says_close(&self) -> bool {
        self.header_all("connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (fails the test, showing the response, if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}); response:\n{}", escape(&self.raw)))
    }

    /// Fail the test, showing the whole response, unless the status is `status`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "expected status {status}; got this response:\n{}",
            escape(&self.raw)
        );
        self
    }

    /// Fail unless the body contains `needle`.
    #[track_caller]
    pub fn assert_body_contains(&self, needle: &str) -> &Self {
        assert!(
            self.body_str().contains(needle),
            "expected the body to contain {needle:?}; got this response:\n{}",
            escape(&self.raw)
        );
        self
    }

    /// Fail unless the header `name` is present with a value that starts with `prefix`.
    #[track_caller]
    pub fn assert_header_starts(&self, name: &str, prefix: &str) -> &Self {
        match self.header(name) {
            Some(v) if v.starts_with(prefix) => {}
            other => panic!(
                "expected header {name} starting with {prefix:?}, got {other:?}; response:\n{}",
                escape(&self.raw)
            ),
        }
        self
    }

    /// Whether a response to this status carries no body whatever its headers say.
    fn status_has_no_body(status: u16) -> bool {
        (100..200).contains(&status) || status == 204 || status == 304
    }

    /// The SPEC rules that hold for every response: `Date` (an IMF-fixdate), `Server`
    /// (`wirepost…`), and `Content-Length` or `Transfer-Encoding: chunked` (except on
    /// 1xx, 204 and 304, which have no body by definition); head lines end in CRLF.
    #[track_caller]
    pub fn check_common(&self) {
        let show = || escape(&self.raw);
        assert!(
            !self.bare_lf,
            "SPEC: response head lines must end in CRLF; got:\n{}",
            show()
        );
        if (100..200).contains(&self.status) {
            return;
        }
        let date = self.header("date");
        assert!(
            date.is_some_and(is_imf_fixdate),
            "SPEC: every response has a Date (IMF-fixdate); got {date:?} in:\n{}",
            show()
        );
        let server = self.header("server");
        assert!(
            server.is_some_and(|s| s.starts_with("wirepost")),
            "SPEC: every response has `Server: wirepost`; got {server:?} in:\n{}",
            show()
        );
        if !Response::status_has_no_body(self.status) {
            assert!(
                self.header("content-length").is_some() || self.chunked,
                "SPEC: every response has Content-Length or Transfer-Encoding: chunked; got:\n{}",
                show()
            );
        }
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7), checked by shape.
pub fn is_imf_fixdate(s: &str) -> bool {
    let b = s.as_bytes();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 29
        && DAYS.contains(&&s[0..3])
        && &s[3..5] == ", "
        && digits(5..7)
        && b[7] == b' '
        && MONTHS.contains(&&s[8..11])
        && b[11] == b' '
        && digits(12..16)
        && b[16] == b' '
        && digits(17..19)
        && b[19] == b':'
        && digits(20..22)
        && b[22] == b':'
        && digits(23..25)
        && &s[25..] == " GMT"
}

/// A raw TCP connection to the server, with a receive buffer for pipelined responses.
pub struct Client {
    pub stream: TcpStream,
    /// Received bytes not yet consumed by a parsed response.
    buf: Vec<u8>,
    /// Bytes of the response being parsed.
    raw: Vec<u8>,
}

/// How a read from the server ended, when it did not deliver bytes.
enum ReadEnd {
    Eof,
    Timeout,
    Error(io::Error),
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// Write all of `bytes`.
    #[track_caller]
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .unwrap_or_else(|e| panic!("send {:?}: {e}", escape(bytes)));
    }

    /// Write all of `bytes`, reporting failure instead of panicking (the server may
    /// have closed the connection already).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Half-close: tell the server we will send no more.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Send a request and read the response to it.
    #[track_caller]
    pub fn request(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.read_response()
    }

    /// Read more bytes into `buf`. `Ok(n)` with n > 0, or how the read ended.
    fn fill(&mut self) -> Result<usize, ReadEnd> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadEnd::Eof),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadEnd::Timeout);
                }
                Err(e) => return Err(ReadEnd::Error(e)),
            }
        }
    }

    /// `fill`, or fail the test saying what was being waited for.
    #[track_caller]
    fn fill_or_panic(&mut self, waiting_for: &str) {
        if let Err(end) = self.fill() {
            let so_far = [self.raw.as_slice(), self.buf.as_slice()].concat();
            let how = match end {
                ReadEnd::Eof => "the server closed the connection".to_string(),
                ReadEnd::Timeout => format!("no bytes came within {READ_TIMEOUT:?}"),
                ReadEnd::Error(e) => format!("read error: {e}"),
            };
            panic!(
                "waiting for {waiting_for}: {how}; received so far ({} bytes):\n{}",
                so_far.len(),
                escape(&so_far)
            );
        }
    }

    /// Move the first `n` buffered bytes into the current response's raw bytes.
    fn consume(&mut self, n: usize) -> Vec<u8> {
        let taken: Vec<u8> = self.buf.drain(..n).collect();
        self.raw.extend_from_slice(&taken);
        taken
    }

    /// One line, LF included.
    #[track_caller]
    fn read_line(&mut self, waiting_for: &str) -> Vec<u8> {
        let mut searched = 0;
        loop {
            if let Some(i) = self.buf[searched..].iter().position(|&b| b == b'\n') {
                return self.consume(searched + i + 1);
            }
            searched = self.buf.len();
            self.fill_or_panic(waiting_for);
        }
    }

    /// Exactly `n` bytes.
    #[track_caller]
    fn read_exact_n(&mut self, n: usize, waiting_for: &str) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill_or_panic(waiting_for);
        }
        self.consume(n)
    }

    /// Read one response to a request that was not `HEAD`.
    #[track_caller]
    pub fn read_response(&mut self) -> Response {
        self.read_response_inner(false)
    }

    /// Read one response to a `HEAD` request (headers only, whatever they say).
    #[track_caller]
    pub fn read_head_response(&mut self) -> Response {
        self.read_response_inner(true)
    }

    #[track_caller]
    fn read_response_inner(&mut self, to_head: bool) -> Response {
        self.raw.clear();
        let mut bare_lf = false;
        let strip = |line: &[u8], bare_lf: &mut bool| -> String {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = match line.strip_suffix(b"\r") {
                Some(l) => l,
                None => {
                    *bare_lf = true;
                    line
                }
            };
            String::from_utf8_lossy(line).into_owned()
        };

        let status_line = self.read_line("a status line");
        let status_line = strip(&status_line, &mut bare_lf);
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "malformed status line {status_line:?}; received:\n{}",
                    escape(&[self.raw.as_slice(), self.buf.as_slice()].concat())
                )
            });
        assert!(
            version.starts_with("HTTP/1."),
            "status line {status_line:?} does not start with HTTP/1."
        );
        let reason = parts.next().unwrap_or("").to_string();

        let mut headers = Vec::new();
        loop {
            let line = self.read_line("a header line");
            let line = strip(&line, &mut bare_lf);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or_else(|| {
                panic!(
                    "header line without a colon: {line:?} in:\n{}",
                    escape(&self.raw)
                )
            });
            headers.push((name.to_string(), value.trim().to_string()));
        }

        let mut resp = Response {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            raw: Vec::new(),
            chunked: false,
            bare_lf,
        };
        let chunked = resp
            .header_all("transfer-encoding")
            .last()
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        resp.chunked = chunked;

        if to_head || Response::status_has_no_body(status) {
            // No body.
        } else if chunked {
            resp.body = self.read_chunked_body();
        } else if let Some(cl) = resp.header("content-length") {
            let n: usize = cl
                .parse()
                .unwrap_or_else(|_| panic!("bad Content-Length {cl:?} in:\n{}", escape(&self.raw)));
            resp.body = self.read_exact_n(n, "the body (by Content-Length)");
        } else {
            // Neither: the body runs to the end of the stream.
            let rest = self.read_to_eof();
            self.raw.extend_from_slice(&rest);
            resp.body = rest;
        }
        resp.raw = std::mem::take(&mut self.raw);
        resp.check_common();
        resp
    }

    #[track_caller]
    fn read_chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line("a chunk-size line");
            let text = String::from_utf8_lossy(&line);
            let size_text = text.trim_end().split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .unwrap_or_else(|_| panic!("bad chunk-size line {text:?}"));
            if size == 0 {
                // Trailer fields until the empty line.
                loop {
                    let t = self.read_line("a trailer line or the final CRLF");
                    if t == b"\r\n" || t == b"\n" {
                        return body;
                    }
                }
            }
            body.extend(self.read_exact_n(size, "chunk data"));
            let end = self.read_exact_n(2, "the CRLF after chunk data");
            assert_eq!(end, b"\r\n", "chunk data not followed by CRLF");
        }
    }

    /// Everything until the server closes (buffered bytes included). Fails the test if
    /// the server keeps the connection open longer than [`READ_TIMEOUT`].
    #[track_caller]
    pub fn read_to_eof(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(_) => {}
                Err(ReadEnd::Eof) => break,
                // A reset after the server closed with our bytes unread: the end too.
                Err(ReadEnd::Error(e)) if e.kind() == io::ErrorKind::ConnectionReset => break,
                Err(ReadEnd::Timeout) => panic!(
                    "expected the server to close the connection within {READ_TIMEOUT:?}; \
                     it stayed open; received:\n{}",
                    escape(&self.buf)
                ),
                Err(ReadEnd::Error(e)) => panic!("read error waiting for EOF: {e}"),
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// Fail unless the server closes the connection with no further bytes.
    #[track_caller]
    pub fn assert_closed(&mut self) {
        let rest = self.read_to_eof();
        assert!(
            rest.is_empty(),
            "expected the connection to be closed with nothing more, but got:\n{}",
            escape(&rest)
        );
    }

    /// Fail if anything arrives, or the connection closes, within `wait`.
    #[track_caller]
    pub fn assert_silent_and_open(&mut self, wait: Duration) {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let r = self.fill();
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        match r {
            Err(ReadEnd::Timeout) => {}
            Ok(_) => panic!("expected no more bytes, but got:\n{}", escape(&self.buf)),
            Err(ReadEnd::Eof) => panic!("expected the connection to stay open; it was closed"),
            Err(ReadEnd::Error(e)) => panic!("expected the connection to stay open: {e}"),
        }
    }

    /// Whether any byte, or EOF, arrives within `wait` (None: nothing happened).
    pub fn poll_for(&mut self, wait: Duration) -> Option<usize> {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let r = self.fill();
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        match r {
            Ok(n) => Some(n),
            Err(ReadEnd::Timeout) => None,
            Err(_) => Some(0),
        }
    }

    /// Bytes received but not yet consumed.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Take the bytes received but not yet consumed.
    pub fn take_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// `GET path HTTP/1.1` with `Host: x`, as bytes.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// A urlencoded `POST path HTTP/1.1` with `Host: x`, any `extra` header lines (each
/// without its CRLF) and `body`, as bytes.
pub fn form_post(path: &str, body: &str, extra: &[&str]) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: x\r\n");
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    format!(
        "{head}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
