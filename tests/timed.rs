//! The timed playground endpoints: `/delay/<s>` answers after s seconds and
//! `/stream/<n>` sends n JSON lines as a chunked response, one chunk a line,
//! `?interval=<ms>` apart. Both wait on the worker's timers, never on a sleeping
//! thread: with `--workers 1`, other connections are served meanwhile. Times are
//! asserted as lower bounds only (an answer is never early), never as upper bounds.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Server, escape, get};

/// A raw connection with a read timeout.
fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Reads a response byte-exactly, noting when each chunk arrived.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn new(stream: TcpStream) -> Raw {
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Read more; false at the end of the stream.
    fn more(&mut self) -> bool {
        let mut b = [0u8; 4096];
        match self.stream.read(&mut b) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&b[..n]);
                true
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => false,
            Err(e) => panic!("read: {e}; so far:\n{}", escape(&self.buf)),
        }
    }

    /// The next `\r\n`-terminated line (without it).
    fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                return String::from_utf8(line[..i].to_vec()).unwrap();
            }
            assert!(
                self.more(),
                "the stream ended; so far:\n{}",
                escape(&self.buf)
            );
        }
    }

    fn exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(
                self.more(),
                "the stream ended; so far:\n{}",
                escape(&self.buf)
            );
        }
        self.buf.drain(..n).collect()
    }

    /// The status line and header lines, up to the empty line.
    fn head(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line();
            if l.is_empty() {
                return lines;
            }
            lines.push(l);
        }
    }

    /// The chunks of a chunked body, each with when it was complete, up to the last
    /// chunk and its empty trailer section.
    fn chunks(&mut self) -> Vec<(Vec<u8>, Instant)> {
        let mut chunks = Vec::new();
        loop {
            let size_line = self.line();
            let size = usize::from_str_radix(&size_line, 16)
                .unwrap_or_else(|_| panic!("bad chunk-size line {size_line:?}"));
            if size == 0 {
                assert_eq!(self.line(), "", "no trailer fields, then the end");
                return chunks;
            }
            let data = self.exact(size);
            assert_eq!(self.exact(2), b"\r\n", "CRLF after the chunk's data");
            chunks.push((data, Instant::now()));
        }
    }

    /// Everything until the server closes.
    fn until_eof(&mut self) -> Vec<u8> {
        while self.more() {}
        std::mem::take(&mut self.buf)
    }
}

fn has(head: &[String], line: &str) -> bool {
    head.iter().any(|l| l.eq_ignore_ascii_case(line))
}

fn line(i: usize, of: usize) -> Vec<u8> {
    format!("{{\"id\": {i}, \"of\": {of}}}\n").into_bytes()
}

#[test]
fn delay_answers_and_never_early() {
    let server = Server::start(&[]);
    for (s, secs) in [("0", 0.0), ("0.5", 0.5), ("1.25", 1.25)] {
        let started = Instant::now();
        let resp = server.request(&get(&format!("/delay/{s}")));
        let took = started.elapsed();
        resp.assert_status(200);
        assert_eq!(resp.json()["delay"], secs, "{}", resp.body_str());
        assert!(
            took >= Duration::from_secs_f64(secs),
            "/delay/{s} answered after {took:?}"
        );
    }
    // The access log line is written when the answer goes out.
    let log = server.log();
    assert!(log.contains("\"GET /delay/1.25 HTTP/1.1\" 200"), "{log}");
}

#[test]
fn bad_delays_are_refused_with_the_reason() {
    let server = Server::start(&[]);
    for (s, says) in [
        ("abc", "not a number"),
        ("", "not a number"),
        ("1.", "not a number"),
        (".5", "not a number"),
        ("1e1", "not a number"),
        ("0x1", "not a number"),
        ("-1", "negative"),
        ("10.5", "at most 10"),
        ("11", "at most 10"),
        ("99999999999999999999", "at most 10"),
        ("nan", "finite"),
        ("inf", "finite"),
        ("1.0001", "milliseconds"),
    ] {
        let resp = server.request(&get(&format!("/delay/{s}")));
        resp.assert_status(400);
        resp.assert_body_contains(says);
    }
    // Answered at once: the connection is fine for the next one.
    let mut c = server.connect();
    c.request(&get("/delay/x")).assert_status(400);
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn a_delay_holds_no_thread_other_connections_are_served_meanwhile() {
    let server = Server::start(&["--workers", "1"]);
    let mut slow = server.connect();
    let mut slow2 = server.connect();
    slow.send(&get("/delay/2"));
    slow2.send(&get("/delay/2"));
    // Meanwhile, on the one worker:
    let mut quick = server.connect();
    quick.request(&get("/plaintext")).assert_status(200);
    quick.request(&get("/delay/0")).assert_status(200);
    // ...and the delayed ones have not been answered yet.
    assert_eq!(
        slow.poll_for(Duration::from_millis(10)),
        None,
        "answered early"
    );
    // Both are answered.
    slow.read_response().assert_status(200);
    slow2.read_response().assert_status(200);
}

#[test]
fn a_request_pipelined_after_a_delay_is_answered_after_it() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let mut reqs = get("/delay/0.3");
    reqs.extend(get("/plaintext"));
    reqs.extend(get("/delay/0"));
    c.send(&reqs);
    let first = c.read_response();
    first.assert_status(200);
    assert_eq!(first.json()["delay"], 0.3);
    c.read_response()
        .assert_status(200)
        .assert_body_contains("Hello");
    assert_eq!(c.read_response().json()["delay"], 0.0);
}

#[test]
fn a_client_that_leaves_mid_delay_costs_nothing() {
    let server = Server::start(&["--workers", "1"]);
    for _ in 0..5 {
        let mut c = connect(&server);
        c.write_all(&get("/delay/0.5")).unwrap();
        drop(c);
    }
    let mut c = connect(&server);
    c.write_all(&get("/delay/0.3")).unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    // A half-closed client still gets its answer.
    let mut raw = Raw::new(c);
    assert!(raw.head()[0].starts_with("HTTP/1.1 200"));
    server.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn stream_sends_one_chunk_per_json_line() {
    let server = Server::start(&[]);
    let mut c = connect(&server);
    c.write_all(&get("/stream/3")).unwrap();
    let mut raw = Raw::new(c);
    let head = raw.head();
    assert_eq!(head[0], "HTTP/1.1 200 OK");
    assert!(has(&head, "Transfer-Encoding: chunked"), "{head:?}");
    assert!(
        !head
            .iter()
            .any(|l| l.to_ascii_lowercase().starts_with("content-length")),
        "{head:?}"
    );
    let chunks: Vec<Vec<u8>> = raw.chunks().into_iter().map(|(d, _)| d).collect();
    assert_eq!(chunks, vec![line(0, 3), line(1, 3), line(2, 3)]);
    // Kept alive: the next request on the same connection.
    raw.stream.write_all(&get("/stream/0")).unwrap();
    let head = raw.head();
    assert_eq!(head[0], "HTTP/1.1 200 OK");
    assert!(raw.chunks().is_empty(), "n=0: the last chunk alone");
    let log = server.log();
    assert!(log.contains("\"GET /stream/3 HTTP/1.1\" 200"), "{log}");
}

#[test]
fn stream_parses_to_json_lines_with_the_test_client_too() {
    let server = Server::start(&[]);
    let resp = server.request(&get("/stream/100"));
    resp.assert_status(200);
    assert!(resp.chunked);
    let lines: Vec<serde_json::Value> = resp
        .body_str()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 100);
    assert_eq!(lines[99]["id"], 99);
    assert_eq!(lines[99]["of"], 100);
}

#[test]
fn stream_interval_spaces_the_chunks() {
    let server = Server::start(&["--workers", "1"]);
    let mut c = connect(&server);
    c.write_all(&get("/stream/3?interval=300")).unwrap();
    let mut raw = Raw::new(c);
    raw.head();
    // Meanwhile, the one worker serves others.
    server.request(&get("/plaintext")).assert_status(200);
    let chunks = raw.chunks();
    assert_eq!(chunks.len(), 3);
    for w in chunks.windows(2) {
        let gap = w[1].1.duration_since(w[0].1);
        // (A lower bound, with room for the clock of the reading side.)
        assert!(gap >= Duration::from_millis(250), "chunks {gap:?} apart");
    }
}

#[test]
fn bad_stream_values_are_refused_with_the_reason() {
    let server = Server::start(&[]);
    for (target, says) in [
        ("/stream/101", "0 to 100"),
        ("/stream/-1", "0 to 100"),
        ("/stream/abc", "0 to 100"),
        ("/stream/", "0 to 100"),
        ("/stream/3?interval=10001", "0 to 10000"),
        ("/stream/3?interval=x", "0 to 10000"),
        ("/stream/3?interval=-5", "0 to 10000"),
        ("/stream/3?interval=", "0 to 10000"),
    ] {
        let resp = server.request(&get(target));
        resp.assert_status(400);
        resp.assert_body_contains(says);
    }
    let resp = server.request(b"POST /stream/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    resp.assert_status(405);
}

#[test]
fn head_of_a_stream_is_the_head_alone() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"HEAD /stream/3 HTTP/1.1\r\nHost: x\r\n\r\n");
    let resp = c.read_head_response();
    resp.assert_status(200);
    assert!(resp.chunked);
    // No body came: the next answer follows at once.
    let next = c.request(&get("/plaintext"));
    next.assert_status(200);
}

#[test]
fn http_1_0_gets_the_lines_unframed_and_the_connection_closes() {
    let server = Server::start(&[]);
    let mut c = connect(&server);
    c.write_all(b"GET /stream/2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let mut raw = Raw::new(c);
    let head = raw.head();
    assert!(has(&head, "Connection: close"), "{head:?}");
    assert!(
        !head
            .iter()
            .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding")),
        "{head:?}"
    );
    assert_eq!(raw.until_eof(), [line(0, 2), line(1, 2)].concat());
}

#[test]
fn a_request_pipelined_after_a_stream_is_answered_after_it() {
    let server = Server::start(&[]);
    let mut c = connect(&server);
    let mut reqs = get("/stream/3?interval=50");
    reqs.extend(get("/plaintext"));
    c.write_all(&reqs).unwrap();
    let mut raw = Raw::new(c);
    raw.head();
    assert_eq!(raw.chunks().len(), 3);
    let head = raw.head();
    assert_eq!(head[0], "HTTP/1.1 200 OK");
    assert_eq!(raw.exact(13), b"Hello, World!");
}

#[test]
fn a_client_that_leaves_mid_stream_is_cleaned_up() {
    let server = Server::start(&["--workers", "1"]);
    for _ in 0..3 {
        let mut c = connect(&server);
        c.write_all(&get("/stream/100?interval=50")).unwrap();
        let mut raw = Raw::new(c);
        raw.head();
        raw.line();
        drop(raw);
    }
    std::thread::sleep(Duration::from_millis(300));
    server.request(&get("/plaintext")).assert_status(200);
    server.request(&get("/stream/1")).assert_status(200);
}

#[test]
fn stopping_does_not_wait_out_delays_or_intervals() {
    let mut server = Server::start(&["--workers", "1", "--drain-timeout", "60"]);
    let mut delayed = server.connect();
    delayed.send(&get("/delay/10"));
    let mut streamed = connect(&server);
    streamed
        .write_all(&get("/stream/5?interval=10000"))
        .unwrap();
    let mut raw = Raw::new(streamed);
    raw.head();
    raw.line();
    server.signal("TERM");
    // The delayed answer comes now, and says the connection closes.
    let resp = delayed.read_response();
    resp.assert_status(200);
    assert!(resp.says_close());
    // The stream's other lines come now, then its end.
    let rest = raw.until_eof();
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.contains("\"id\": 4") && text.ends_with("0\r\n\r\n"),
        "{text}"
    );
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("the server exits without waiting out the delay");
    assert!(status.success());
}

#[test]
fn trace_shows_the_chunks() {
    let server = Server::start(&["--trace"]);
    server.request(&get("/stream/2")).assert_status(200);
    // (The trace line is written just after the bytes: wait for it.)
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = server.log();
    while !log.contains("{\"id\": 1, \"of\": 2}") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        log = server.log();
    }
    assert!(log.contains("{\"id\": 1, \"of\": 2}"), "{log}");
}

#[test]
fn curl_reads_a_stream_as_it_comes() {
    let server = Server::start(&[]);
    let out = match std::process::Command::new("curl")
        .args([
            "-sSN",
            "--max-time",
            "20",
            &server.url("/stream/3?interval=10"),
        ])
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("curl is needed for this test (scripts/test installs it): {e}"),
    };
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, [line(0, 3), line(1, 3), line(2, 3)].concat());
}

#[test]
fn a_request_body_is_read_before_the_wait_and_too_large_a_one_refused() {
    let server = Server::start(&["--max-body", "1000"]);
    let mut c = server.connect();
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let resp = c.request(&post("/delay/0.2", "a=1"));
    resp.assert_status(200);
    let mut req = b"GET /stream/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc".to_vec();
    req.extend(get("/plaintext"));
    c.send(&req);
    assert_eq!(c.read_response().body_str().lines().count(), 2);
    c.read_response().assert_status(200);
    // A body larger than a route may skip, sent while the answer waits: refused, and
    // the server carries on.
    for path in ["/delay/1", "/stream/3?interval=300"] {
        let mut big = server.connect();
        big.send(
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").as_bytes(),
        );
        let _ = big.try_send(&[b'x'; 100_000]);
        let resp = big.read_response();
        assert!(matches!(resp.status, 405 | 413), "{}", resp.status);
    }
    server.request(&get("/plaintext")).assert_status(200);
    assert!(!server.log().contains("panic"), "{}", server.log());
}

#[test]
fn the_idle_timeout_does_not_cut_a_wait_and_applies_after_it() {
    let server = Server::start(&["--idle-timeout", "1"]);
    // Longer than the idle timeout, on both: the client is waiting for us, not idle.
    let mut c = server.connect();
    let resp = c.request(&get("/delay/1.5"));
    resp.assert_status(200);
    assert!(!resp.says_close());
    let mut s = connect(&server);
    s.write_all(&get("/stream/2?interval=1500")).unwrap();
    let mut raw = Raw::new(s);
    assert_eq!(raw.head()[0], "HTTP/1.1 200 OK");
    assert_eq!(raw.chunks().len(), 2);
    // Then idle: closed without a word after the idle timeout.
    assert!(raw.until_eof().is_empty());
    c.assert_closed();
}
