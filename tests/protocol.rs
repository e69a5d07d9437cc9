//! Raw-byte integration tests of the SPEC's "Protocol" section and of the `/`,
//! `/plaintext`, `/json`, `/echo` and `/static/` rows, against a real server process.
//!
//! Each test starts its own server on a free port (see `support`), writes exact bytes
//! and parses exactly what comes back. Every response read is also checked for the
//! headers every response must have (`Date`, `Server`, framing).

mod support;

use std::time::{Duration, Instant};
use support::{Client, Response, Server, escape, get};

use serde_json::json;

/// After `resp` was read on `c`: if it says `Connection: close`, the server must close;
/// if not, the connection must still answer a request.
#[track_caller]
fn assert_close_consistent(c: &mut Client, resp: &Response) {
    if resp.says_close() {
        c.assert_closed();
    } else {
        c.request(&get("/plaintext"))
            .assert_status(200)
            .assert_body_contains("Hello, World!");
    }
}

/// Send one request on a fresh connection; expect `status`, `Connection: close`, then EOF.
#[track_caller]
fn expect_error_and_close(server: &Server, request: &[u8], status: u16, needle: &str) -> Response {
    let mut c = server.connect();
    c.send(request);
    let resp = c.read_response();
    resp.assert_status(status).assert_body_contains(needle);
    resp.assert_header_starts("content-type", "text/plain");
    assert!(
        resp.says_close(),
        "SPEC: `Connection: close` where the stream can no longer be trusted; got:\n{}",
        escape(&resp.raw)
    );
    c.assert_closed();
    resp
}

// ---------------------------------------------------------------------------------
// Pages: /, /plaintext, /json
// ---------------------------------------------------------------------------------

#[test]
fn plaintext_is_hello_world_text_plain() {
    let server = Server::start(&[]);
    let resp = server.request(&get("/plaintext"));
    resp.assert_status(200)
        .assert_header_starts("content-type", "text/plain");
    assert_eq!(resp.body, b"Hello, World!");
    assert_eq!(resp.header("content-length"), Some("13"));
}

#[test]
fn json_is_hello_world_message() {
    let server = Server::start(&[]);
    let resp = server.request(&get("/json"));
    resp.assert_status(200)
        .assert_header_starts("content-type", "application/json");
    assert_eq!(resp.json(), json!({"message": "Hello, World!"}));
    assert_eq!(resp.body, br#"{"message":"Hello, World!"}"#);
}

#[test]
fn index_links_the_protocol_pages_and_answers_json() {
    let server = Server::start(&[]);
    let resp = server.request(&get("/"));
    resp.assert_status(200)
        .assert_header_starts("content-type", "text/html");
    for path in ["/plaintext", "/json", "/echo"] {
        resp.assert_body_contains(&format!("href=\"{path}"));
    }
    // "Every HTML page also answers Accept: application/json with the same data as JSON."
    let resp = server.request(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
    resp.assert_status(200)
        .assert_header_starts("content-type", "application/json");
    let v = resp.json();
    let text = v.to_string();
    for path in ["/plaintext", "/json", "/echo"] {
        assert!(
            text.contains(&format!("\"{path}")),
            "JSON index should name {path}: {text}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Connections: keep-alive, pipelining, HTTP/1.0, bare LF
// ---------------------------------------------------------------------------------

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    for round in 0..3 {
        let resp = c.request(&get("/plaintext"));
        resp.assert_status(200);
        assert_eq!(resp.body, b"Hello, World!", "round {round}");
        assert!(!resp.says_close(), "HTTP/1.1 keeps the connection open");
        let resp = c.request(&get("/json"));
        resp.assert_status(200);
        let resp = c.request(&get(&format!("/echo?round={round}")));
        assert_eq!(resp.json()["query"], json!({"round": [round.to_string()]}));
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let n = 8;
    let mut all = Vec::new();
    for i in 0..n {
        all.extend(get(&format!("/echo?n={i}")));
    }
    c.send(&all); // one write
    for i in 0..n {
        let resp = c.read_response();
        resp.assert_status(200);
        let v = resp.json();
        assert_eq!(v["target"], json!(format!("/echo?n={i}")), "response {i}");
        assert_eq!(v["query"], json!({"n": [i.to_string()]}));
    }
    c.assert_silent_and_open(Duration::from_millis(200));
}

#[test]
fn pipelined_mixed_requests_with_bodies_and_head() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(
        b"POST /echo?n=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
          HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /echo?n=2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
          GET /echo?n=3 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let r0 = c.read_response();
    assert_eq!(r0.json()["body_bytes"], json!(5));
    assert_eq!(r0.json()["target"], json!("/echo?n=0"));
    let r1 = c.read_head_response();
    r1.assert_status(200);
    assert_eq!(r1.header("content-length"), Some("13"));
    let r2 = c.read_response();
    assert_eq!(r2.json()["target"], json!("/echo?n=2"));
    assert_eq!(r2.json()["body_bytes"], json!(3));
    assert_eq!(r2.json()["chunked"], json!(true));
    let r3 = c.read_response();
    assert_eq!(r3.json()["target"], json!("/echo?n=3"));
}

#[test]
fn http10_closes_by_default() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(b"GET /plaintext HTTP/1.0\r\n\r\n");
    resp.assert_status(200);
    assert_eq!(resp.body, b"Hello, World!");
    assert!(
        resp.says_close(),
        "SPEC: `Connection: close` when the server will close; got:\n{}",
        escape(&resp.raw)
    );
    c.assert_closed();
}

#[test]
fn http10_keep_alive_when_asked() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    resp.assert_status(200);
    assert!(!resp.says_close());
    // An HTTP/1.0 client keeps the connection only if the response says keep-alive.
    assert!(
        resp.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")),
        "a persistent HTTP/1.0 response says `Connection: keep-alive`; got:\n{}",
        escape(&resp.raw)
    );
    let resp = c.request(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(resp.json()["version"], json!("HTTP/1.0"));
    // Without the option the next one closes.
    let resp = c.request(b"GET /json HTTP/1.0\r\n\r\n");
    resp.assert_status(200);
    assert!(resp.says_close());
    c.assert_closed();
}

#[test]
fn http11_connection_close_is_honoured() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    resp.assert_status(200);
    assert!(resp.says_close(), "got:\n{}", escape(&resp.raw));
    c.assert_closed();
}

#[test]
fn half_closed_connection_still_gets_its_responses() {
    // `printf ... | nc -N` (docs/protocol.md): the client shuts down its sending half
    // after the requests; the server answers them all, then closes.
    let server = Server::start(&[]);
    let mut c = server.connect();
    let mut all = get("/echo?n=1");
    all.extend(get("/plaintext"));
    c.send(&all);
    c.shutdown_write();
    assert_eq!(c.read_response().json()["target"], json!("/echo?n=1"));
    assert_eq!(c.read_response().body, b"Hello, World!");
    c.assert_closed();
}

#[test]
fn bare_lf_request_line_and_headers_are_accepted() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(b"GET /plaintext HTTP/1.1\nHost: x\n\n");
    resp.assert_status(200);
    assert_eq!(resp.body, b"Hello, World!");
    // Mixed endings, and the connection goes on.
    let resp = c.request(b"GET /echo?a=1 HTTP/1.1\r\nHost: x\nX-Mixed: yes\r\n\n");
    resp.assert_status(200);
    assert_eq!(
        resp.json()["headers"],
        json!([["Host", "x"], ["X-Mixed", "yes"]])
    );
}

// ---------------------------------------------------------------------------------
// Errors (the SPEC's Protocol table, row by row)
// ---------------------------------------------------------------------------------

#[test]
fn malformed_header_gets_400_with_line_number_then_close() {
    let server = Server::start(&[]);
    let resp = expect_error_and_close(
        &server,
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Bad : y\r\n\r\n",
        400,
        "line 3: header name contains a space",
    );
    assert!(resp.body_str().ends_with('\n'));
}

#[test]
fn malformed_request_lines_get_400() {
    let server = Server::start(&[]);
    for line in [
        "GET /plaintext",
        "GET /a b HTTP/1.1",
        "GET /plaintext HTTP/1.1 extra",
        "G(T /plaintext HTTP/1.1",
        "GET /plaintext HTTX/1.1",
        " GET /plaintext HTTP/1.1",
    ] {
        let mut c = server.connect();
        let resp = c.request(format!("{line}\r\nHost: x\r\n\r\n").as_bytes());
        resp.assert_status(400).assert_body_contains("line 1:");
        assert!(resp.says_close(), "request line {line:?}");
        c.assert_closed();
    }
}

#[test]
fn request_target_refusals_say_why() {
    let server = Server::start(&[]);
    for (line, needle) in [
        (
            "GET /echo?p=#x HTTP/1.1",
            "a fragment is not sent to the server",
        ),
        ("M-SEARCH * HTTP/1.1", "`*` is only allowed with OPTIONS"),
        ("GET http://u:p@a/echo HTTP/1.1", "userinfo (`user:pass@`)"),
    ] {
        let mut c = server.connect();
        let resp = c.request(format!("{line}\r\nHost: x\r\n\r\n").as_bytes());
        resp.assert_status(400).assert_body_contains(needle);
        assert!(resp.says_close(), "request line {line:?}");
        c.assert_closed();
    }
}

#[test]
fn malformed_headers_get_400_naming_the_line() {
    let server = Server::start(&[]);
    for (head, needle) in [
        ("Host: x\r\nNo colon here", "line 3:"),
        ("Host: x\r\n: empty name", "line 3:"),
        ("Host: x\r\nX-Fold: a\r\n  folded", "line 4:"),
        ("Host: x\r\nX-Ctl: a\x01b", "line 3:"),
        ("X(y): 1\r\nHost: x", "line 2:"),
    ] {
        let mut c = server.connect();
        let resp = c.request(format!("GET /plaintext HTTP/1.1\r\n{head}\r\n\r\n").as_bytes());
        resp.assert_status(400).assert_body_contains(needle);
        assert!(resp.says_close(), "head {head:?}");
        c.assert_closed();
    }
}

#[test]
fn missing_host_is_400() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(b"GET /plaintext HTTP/1.1\r\nUser-Agent: t\r\n\r\n");
    resp.assert_status(400).assert_body_contains("Host");
    assert_close_consistent(&mut c, &resp);
}

#[test]
fn two_hosts_are_400() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(b"GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    resp.assert_status(400).assert_body_contains("Host");
    assert_close_consistent(&mut c, &resp);
}

#[test]
fn http10_without_host_is_fine() {
    let server = Server::start(&[]);
    server
        .request(b"GET /plaintext HTTP/1.0\r\n\r\n")
        .assert_status(200);
}

#[test]
fn content_length_with_transfer_encoding_is_400_and_closes() {
    let server = Server::start(&[]);
    expect_error_and_close(
        &server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "Transfer-Encoding",
    );
}

#[test]
fn two_different_content_lengths_are_400_and_close() {
    let server = Server::start(&[]);
    expect_error_and_close(
        &server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello",
        400,
        "Content-Length",
    );
    expect_error_and_close(
        &server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 5\r\n\r\nhello",
        400,
        "Content-Length",
    );
}

#[test]
fn identical_repeated_content_lengths_are_accepted() {
    // The SPEC rejects only *different* values (RFC 9110 §8.6 allows either).
    let server = Server::start(&[]);
    let resp = server.request(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    );
    resp.assert_status(200);
    assert_eq!(resp.json()["body_bytes"], json!(5));
}

#[test]
fn malformed_content_length_is_400_and_closes() {
    let server = Server::start(&[]);
    for cl in ["abc", "-1", "+5", "5 5", "0x10", "99999999999999999999999"] {
        let request = format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {cl}\r\n\r\n");
        expect_error_and_close(&server, request.as_bytes(), 400, "Content-Length");
    }
}

#[test]
fn transfer_encoding_other_than_chunked_is_501() {
    let server = Server::start(&[]);
    for te in ["gzip", "chunked, gzip", "identity", "x-custom"] {
        let request = format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {te}\r\n\r\n");
        let mut c = server.connect();
        let resp = c.request(request.as_bytes());
        resp.assert_status(501);
        assert!(
            resp.says_close(),
            "the body's framing is unknown, so the server must close; got:\n{}",
            escape(&resp.raw)
        );
        c.assert_closed();
    }
}

#[test]
fn request_line_over_8_kib_is_414() {
    let server = Server::start(&[]);
    // "GET " + target + " HTTP/1.1" is exactly 8192 bytes: allowed.
    let make = |len: usize| {
        let fixed = "GET /echo?x= HTTP/1.1".len();
        let target = format!("/echo?x={}", "a".repeat(len - fixed));
        let line = format!("GET {target} HTTP/1.1");
        assert_eq!(line.len(), len);
        format!("{line}\r\nHost: x\r\n\r\n").into_bytes()
    };
    let mut c = server.connect();
    let resp = c.request(&make(8192));
    resp.assert_status(200);
    assert_eq!(resp.json()["path"], json!("/echo"));
    let resp = expect_error_and_close(&server, &make(8193), 414, "line 1:");
    assert_eq!(resp.status, 414);
    // Far over: the server answers without waiting for the end of the line.
    let mut c = server.connect();
    // (The write may fail part-way if the server has already answered and closed.)
    let _ = c.try_send(format!("GET /{} ", "a".repeat(100_000)).as_bytes());
    c.read_response().assert_status(414);
}

#[test]
fn header_section_over_16_kib_is_431() {
    let server = Server::start(&[]);
    // Well under the limit: fine.
    let ok = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(16 * 1024 - 200)
    );
    server.request(ok.as_bytes()).assert_status(200);
    // One field alone larger than 16 KiB.
    let big = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(16 * 1024 + 1)
    );
    expect_error_and_close(&server, big.as_bytes(), 431, "header");
    // Many small fields adding up to more than 16 KiB.
    let mut many = String::from("GET /echo HTTP/1.1\r\nHost: x\r\n");
    for i in 0..50 {
        many.push_str(&format!("X-F{i}: {}\r\n", "b".repeat(400)));
    }
    many.push_str("\r\n");
    expect_error_and_close(&server, many.as_bytes(), 431, "header");
}

#[test]
fn more_than_100_header_fields_is_431() {
    let server = Server::start(&[]);
    let with_fields = |n: usize| {
        let mut s = String::from("GET /echo HTTP/1.1\r\nHost: x\r\n");
        for i in 1..n {
            s.push_str(&format!("X-H{i}: {i}\r\n"));
        }
        s.push_str("\r\n");
        s.into_bytes()
    };
    let resp = server.request(&with_fields(100));
    resp.assert_status(200);
    assert_eq!(resp.json()["headers"].as_array().map(Vec::len), Some(100));
    expect_error_and_close(&server, &with_fields(101), 431, "100");
}

#[test]
fn limit_errors_quote_the_limits_set_by_flags() {
    let server = Server::start(&["--max-headers", "3", "--max-request-line", "64"]);
    expect_error_and_close(
        &server,
        b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        431,
        "line 5: more than 3 header fields",
    );
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(64));
    expect_error_and_close(
        &server,
        long.as_bytes(),
        414,
        "line 1: request line is longer than 64 bytes",
    );
}

#[test]
fn unsupported_versions_are_505() {
    let server = Server::start(&[]);
    for version in ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0"] {
        let mut c = server.connect();
        let resp = c.request(format!("GET /plaintext {version}\r\nHost: x\r\n\r\n").as_bytes());
        resp.assert_status(505);
        assert_close_consistent(&mut c, &resp);
    }
}

#[test]
fn slow_head_gets_408_after_header_timeout() {
    let server = Server::start(&["--header-timeout", "0.5"]);
    let mut c = server.connect();
    let start = Instant::now();
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n");
    let resp = c.read_response();
    let took = start.elapsed();
    resp.assert_status(408);
    assert!(resp.says_close(), "got:\n{}", escape(&resp.raw));
    assert!(
        took >= Duration::from_millis(400),
        "408 came after {took:?}, before the 0.5 s header timeout"
    );
    c.assert_closed();
}

#[test]
fn header_timeout_starts_at_the_first_byte() {
    // A connection that has sent nothing yet is idle, not slow: no 408 for it.
    let server = Server::start(&["--header-timeout", "0.5"]);
    let mut c = server.connect();
    c.assert_silent_and_open(Duration::from_millis(1200));
    c.request(&get("/plaintext")).assert_status(200);
    // Nor between requests on a kept-alive connection.
    c.assert_silent_and_open(Duration::from_millis(1200));
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn wrong_method_is_405_with_allow() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    for (request, path) in [
        (
            &b"POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"[..],
            "/plaintext",
        ),
        (b"DELETE /json HTTP/1.1\r\nHost: x\r\n\r\n", "/json"),
        (
            b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            "/",
        ),
    ] {
        let resp = c.request(request);
        resp.assert_status(405);
        let allow = resp
            .header("allow")
            .unwrap_or_else(|| panic!("405 without Allow for {path}:\n{}", escape(&resp.raw)));
        assert!(allow.contains("GET"), "Allow: {allow}");
        assert!(!resp.says_close(), "a 405 leaves the stream intact");
    }
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn unknown_path_is_404_and_keeps_the_connection() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(&get("/no/such/page"));
    resp.assert_status(404)
        .assert_header_starts("content-type", "text/plain");
    assert!(!resp.says_close());
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn body_over_the_limit_is_413() {
    let server = Server::start(&["--max-body", "64"]);
    let body = "a=".to_string() + &"x".repeat(200);
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut c = server.connect();
    let resp = c.request(request.as_bytes());
    resp.assert_status(413);
    assert_close_consistent(&mut c, &resp);
    // At the limit: fine.
    let body = "a=".to_string() + &"x".repeat(62);
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = server.request(request.as_bytes());
    resp.assert_status(200);
    assert_eq!(resp.json()["body_bytes"], json!(64));
}

#[test]
fn expect_100_continue_gets_100_before_the_body() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let interim = c.read_response();
    interim.assert_status(100);
    c.send(b"hello");
    let resp = c.read_response();
    resp.assert_status(200);
    assert_eq!(resp.json()["body_bytes"], json!(5));
}

#[test]
fn expect_100_continue_over_the_limit_gets_413_without_the_body() {
    let server = Server::start(&["--max-body", "64"]);
    let mut c = server.connect();
    c.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
    );
    let resp = c.read_response();
    resp.assert_status(413);
    assert_close_consistent(&mut c, &resp);
}

#[test]
fn chunked_body_to_echo() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let resp = c.request(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(v["body_bytes"], json!(11));
    assert_eq!(v["chunked"], json!(true));
    assert_eq!(v["method"], json!("POST"));
    // The connection goes on after the trailers.
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn chunked_body_sent_in_pieces() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let request: &[u8] =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n";
    for piece in request.chunks(7) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(5));
    }
    let v = c.read_response().json();
    assert_eq!(v["body_bytes"], json!(10));
    assert_eq!(v["chunked"], json!(true));
}

#[test]
fn chunked_bare_lf_is_400_saying_crlf() {
    let server = Server::start(&[]);
    // Bare LF after the chunk size.
    expect_error_and_close(
        &server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        400,
        "CRLF",
    );
    // Bare LF on the last-chunk line.
    expect_error_and_close(
        &server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\r\n",
        400,
        "CRLF",
    );
}

#[test]
fn malformed_chunk_size_is_400() {
    let server = Server::start(&[]);
    for size in ["zz", "", "-1", "1 2", "fffffffffffffffffffff"] {
        let request = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n"
        );
        expect_error_and_close(&server, request.as_bytes(), 400, "chunk");
    }
}

#[test]
fn unread_body_is_never_parsed_as_the_next_request() {
    let server = Server::start(&[]);
    let smuggled = "GET /json HTTP/1.1\r\nHost: x\r\n\r\n";
    // By Content-Length, to a route that does not read bodies.
    let mut c = server.connect();
    c.send(
        format!(
            "GET /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}",
            smuggled.len()
        )
        .as_bytes(),
    );
    check_not_smuggled(&mut c);
    // By chunked coding.
    let mut c = server.connect();
    c.send(
        format!(
            "GET /plaintext HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{smuggled}\r\n0\r\n\r\n",
            smuggled.len()
        )
        .as_bytes(),
    );
    check_not_smuggled(&mut c);
    // To a 404 and a 405.
    for head in ["GET /nope", "POST /plaintext"] {
        let mut c = server.connect();
        c.send(
            format!(
                "{head} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}",
                smuggled.len()
            )
            .as_bytes(),
        );
        let first = c.read_response();
        assert!(first.status == 404 || first.status == 405);
        after_first_not_smuggled(&mut c, &first);
    }
}

#[track_caller]
fn check_not_smuggled(c: &mut Client) {
    let first = c.read_response();
    first.assert_status(200);
    assert_eq!(first.body, b"Hello, World!");
    after_first_not_smuggled(c, &first);
}

/// The body held `GET /json`: the next response must be to `GET /echo?after`, or the
/// connection is closed (the SPEC allows closing instead of skipping).
#[track_caller]
fn after_first_not_smuggled(c: &mut Client, first: &Response) {
    if first.says_close() {
        c.assert_closed();
        return;
    }
    c.send(&get("/echo?after"));
    let next = c.read_response();
    next.assert_status(200);
    assert_eq!(
        next.json()["target"],
        json!("/echo?after"),
        "the unread body was parsed as a request; got:\n{}",
        escape(&next.raw)
    );
}

// ---------------------------------------------------------------------------------
// HEAD, Date/Server on everything
// ---------------------------------------------------------------------------------

#[test]
fn head_has_the_get_headers_and_no_body() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    for path in ["/plaintext", "/json", "/", "/echo?x=1"] {
        let got = c.request(&get(path));
        got.assert_status(200);
        c.send(format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let head = c.read_head_response();
        head.assert_status(200);
        // /echo's body depends on the request (its method and line), and so does an
        // HTML page's (its "On the wire" panel shows the request), so only its
        // presence is compared there.
        if path.starts_with("/echo") || path == "/" {
            assert!(head.header("content-length").is_some() || head.chunked);
        } else {
            assert_eq!(
                head.header("content-length"),
                got.header("content-length"),
                "HEAD {path}: Content-Length must be the GET's"
            );
        }
        assert_eq!(head.header("content-type"), got.header("content-type"));
        // No body bytes may follow: the next response must start right away.
        let next = c.request(&get("/plaintext"));
        assert_eq!(next.body, b"Hello, World!", "after HEAD {path}");
    }
}

#[test]
fn every_response_has_date_and_server() {
    // check_common() runs on every response read; this walks through many kinds.
    let server = Server::start(&["--max-body", "16"]);
    let requests: Vec<Vec<u8>> = vec![
        get("/plaintext"),
        get("/json"),
        get("/"),
        get("/echo"),
        get("/nope"),
        b"POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        b"GET / HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n".to_vec(),
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n".to_vec(),
        get("/static/does-not-exist.txt"),
    ];
    for request in requests {
        let mut c = server.connect();
        c.send(&request);
        let resp = c.read_response();
        assert!(resp.header("date").is_some() && resp.header("server").is_some());
    }
}

// ---------------------------------------------------------------------------------
// Many idle connections, idle timeout
// ---------------------------------------------------------------------------------

#[test]
fn hundred_idle_connections_do_not_block_a_fresh_client() {
    let server = Server::start(&[]);
    let mut idle = Vec::new();
    for i in 0..100 {
        let mut c = server.connect();
        if i % 2 == 1 {
            c.request(&get("/plaintext")).assert_status(200);
        }
        idle.push(c);
    }
    let start = Instant::now();
    let mut fresh = server.connect();
    for _ in 0..5 {
        fresh.request(&get("/plaintext")).assert_status(200);
    }
    for _ in 0..5 {
        server.request(&get("/json")).assert_status(200);
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "10 requests beside 100 idle connections took {:?}",
        start.elapsed()
    );
    // The idle ones are still served.
    for c in idle.iter_mut().step_by(10) {
        c.request(&get("/plaintext")).assert_status(200);
    }
}

#[test]
fn idle_keep_alive_connection_is_closed_after_idle_timeout() {
    let server = Server::start(&["--idle-timeout", "0.5"]);
    let mut c = server.connect();
    c.request(&get("/plaintext")).assert_status(200);
    let start = Instant::now();
    c.assert_closed();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "closed after {took:?}, before the 0.5 s idle timeout"
    );
    // A busy connection is not idle.
    let mut c = server.connect();
    for _ in 0..6 {
        c.request(&get("/plaintext")).assert_status(200);
        std::thread::sleep(Duration::from_millis(200));
    }
}

// ---------------------------------------------------------------------------------
// /echo
// ---------------------------------------------------------------------------------

#[test]
fn echo_reports_the_request() {
    let server = Server::start(&[]);
    let resp = server.request(
        b"GET /echo?a=1&a=2&b=x+y&c=%41%2B&empty= HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
          X-Custom: Value\r\ncookie: sid=1; theme=dark; sid=2\r\n\r\n",
    );
    resp.assert_status(200)
        .assert_header_starts("content-type", "application/json");
    let v = resp.json();
    assert_eq!(v["method"], json!("GET"));
    assert_eq!(v["target"], json!("/echo?a=1&a=2&b=x+y&c=%41%2B&empty="));
    assert_eq!(v["path"], json!("/echo"));
    assert_eq!(v["version"], json!("HTTP/1.1"));
    assert_eq!(
        v["query"],
        json!({"a": ["1", "2"], "b": ["x y"], "c": ["A+"], "empty": [""]})
    );
    assert_eq!(
        v["headers"],
        json!([
            ["Host", "127.0.0.1:8000"],
            ["X-Custom", "Value"],
            ["cookie", "sid=1; theme=dark; sid=2"]
        ])
    );
    assert_eq!(v["cookies"], json!({"sid": "1", "theme": "dark"}));
    assert_eq!(v["body_bytes"], json!(0));
    assert_eq!(v["chunked"], json!(false));
}

#[test]
fn echo_takes_any_method() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"] {
        let resp = c.request(format!("{method} /echo HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        resp.assert_status(200);
        assert_eq!(resp.json()["method"], json!(method));
    }
}

#[test]
fn echo_decodes_an_urlencoded_form() {
    let server = Server::start(&[]);
    let body = "name=Ada+Lovelace&lang=en&lang=fr&amp=%26";
    let resp = server.request(
        format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(v["body_bytes"], json!(body.len()));
    assert_eq!(
        v["form"],
        json!({"name": ["Ada Lovelace"], "lang": ["en", "fr"], "amp": ["&"]}),
        "SPEC /echo: form values percent-decoded into lists; got {v}"
    );
}

// ---------------------------------------------------------------------------------
// /static/
// ---------------------------------------------------------------------------------

const TEST_FILE: &str = "wirepost-test.txt";
const TEST_CONTENT: &str = "static file for the wirepost tests\n";
const SECRET: &str = "SECRET-MARKER-7f3a";

/// A server whose www is a copy of the repository's plus a known test file, with
/// marker files one and two levels above `static/`, where no request may reach.
fn static_server() -> Server {
    let root = support::temp_dir("www");
    let www = root.join("www");
    support::copy_dir(&support::repo_root().join("www"), &www);
    std::fs::create_dir_all(www.join("static")).unwrap();
    std::fs::write(www.join("static").join(TEST_FILE), TEST_CONTENT).unwrap();
    std::fs::write(www.join("secret.txt"), SECRET).unwrap();
    std::fs::write(root.join("secret.txt"), SECRET).unwrap();
    Server::start_with_www(&www, &[])
}

#[test]
fn static_file_has_etag_and_last_modified() {
    let server = static_server();
    let resp = server.request(&get(&format!("/static/{TEST_FILE}")));
    resp.assert_status(200)
        .assert_header_starts("content-type", "text/plain");
    assert_eq!(resp.body_str(), TEST_CONTENT);
    let etag = resp.header("etag").expect("ETag");
    assert!(
        etag.starts_with('"') || etag.starts_with("W/\""),
        "ETag is a quoted string: {etag}"
    );
    let lm = resp.header("last-modified").expect("Last-Modified");
    assert!(support::is_imf_fixdate(lm), "Last-Modified {lm:?}");
}

#[test]
fn static_conditional_requests_get_304_without_body() {
    let server = static_server();
    let path = format!("/static/{TEST_FILE}");
    let first = server.request(&get(&path));
    let etag = first.header("etag").expect("ETag").to_string();
    let lm = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let mut c = server.connect();

    let resp = c.request(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n").as_bytes(),
    );
    resp.assert_status(304);
    assert_eq!(resp.header("etag"), Some(etag.as_str()));
    // A 304 has no body: the next response must follow at once.
    c.request(&get("/plaintext")).assert_status(200);

    let resp = c.request(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\", {etag}\r\n\r\n")
            .as_bytes(),
    );
    resp.assert_status(304);

    let resp = c.request(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"not-it\"\r\n\r\n").as_bytes(),
    );
    resp.assert_status(200);
    assert_eq!(resp.body_str(), TEST_CONTENT);

    let resp = c.request(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: {lm}\r\n\r\n").as_bytes(),
    );
    resp.assert_status(304);
    c.request(&get("/plaintext")).assert_status(200);

    let resp = c.request(
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n"
        )
        .as_bytes(),
    );
    resp.assert_status(200);

    // HEAD of a static file: its length, no body.
    c.send(format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    let head = c.read_head_response();
    head.assert_status(200);
    assert_eq!(
        head.header("content-length"),
        Some(TEST_CONTENT.len().to_string().as_str())
    );
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn static_files_answer_single_ranges() {
    let server = static_server();
    let path = format!("/static/{TEST_FILE}");
    let len = TEST_CONTENT.len();
    let mut c = server.connect();
    let resp =
        c.request(format!("GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-5\r\n\r\n").as_bytes());
    resp.assert_status(206);
    assert_eq!(resp.body_str(), &TEST_CONTENT[..6]);
    let want = format!("bytes 0-5/{len}");
    assert_eq!(resp.header("content-range"), Some(want.as_str()));
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));
    let resp = c.request(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nRange: bytes={len}-\r\n\r\n").as_bytes(),
    );
    resp.assert_status(416);
    let want = format!("bytes */{len}");
    assert_eq!(resp.header("content-range"), Some(want.as_str()));
    // The connection goes on after both.
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn static_hello_html_is_served() {
    let file = support::repo_root().join("www/static/hello.html");
    assert!(
        file.exists(),
        "www/static/hello.html is missing from the repository"
    );
    let server = Server::start(&[]);
    let resp = server.request(&get("/static/hello.html"));
    resp.assert_status(200)
        .assert_header_starts("content-type", "text/html");
    assert_eq!(resp.body, std::fs::read(&file).unwrap());
}

#[test]
fn static_path_escapes_never_serve_files_outside() {
    let targets = [
        "/static/../secret.txt",
        "/static/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%2f..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/..\\secret.txt",
        "/static/./../secret.txt",
        "/static//../secret.txt",
        "/static/%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/%00",
        "/static/wirepost-test.txt%00.html",
        "/static/%2e%2e/%2e%2e/Cargo.toml",
        "/static/../../Cargo.toml",
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fCargo.toml",
    ];
    // With a www holding marker files above static/.
    let server = static_server();
    for target in targets {
        check_no_escape(&server, target);
    }
    // With the repository's own www, whose grandparent holds Cargo.toml.
    let server = Server::start(&[]);
    for target in targets {
        check_no_escape(&server, target);
    }
}

#[track_caller]
fn check_no_escape(server: &Server, target: &str) {
    let mut c = server.connect();
    c.send(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    let resp = c.read_response();
    let body = resp.body_str();
    assert!(
        [400, 403, 404].contains(&resp.status)
            && !body.contains(SECRET)
            && !body.contains("[package]")
            && !body.contains("root:"),
        "GET {target} must be 400/403/404 and never a file outside www/static; got:\n{}",
        escape(&resp.raw)
    );
}

/// Requests pipelined behind a large file (sent in pieces as the socket drains) are all
/// answered in order, at once: they once waited for the 10 s header timeout whenever
/// the socket took the whole file in one turn, since no new readiness event comes for
/// requests already read.
#[test]
fn requests_pipelined_behind_a_large_file_are_all_answered() {
    let root = support::temp_dir("www");
    let www = root.join("www");
    support::copy_dir(&support::repo_root().join("www"), &www);
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(www.join("static").join("big.bin"), &big).unwrap();
    let server = Server::start_with_www(&www, &["--workers", "1"]);
    let mut c = server.connect();
    let one = get("/static/big.bin");
    let mut three = one.clone();
    three.extend_from_slice(&one);
    three.extend_from_slice(&get("/plaintext"));
    let started = std::time::Instant::now();
    c.send(&three);
    for _ in 0..2 {
        let r = c.read_response();
        r.assert_status(200);
        assert_eq!(r.body, big);
    }
    let r = c.read_response();
    r.assert_status(200);
    assert_eq!(r.body_str(), "Hello, World!");
    // Not a speed figure: the bug made this take the header timeout (10 s).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_head_request_refused_by_the_parser_gets_no_body() {
    // RFC 9110 §9.3.2: a response to HEAD has no content, errors included.
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"HEAD /x HTTP/1.1\r\n\r\n");
    let raw = c.read_to_eof();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("Content-Length: "), "{text}");
    assert_eq!(body, "", "a HEAD answer carries no body: {text}");
}

#[test]
fn a_malformed_body_skipped_after_the_answer_closes_without_a_second_response() {
    // One final response per request (RFC 9110): the 200 is the answer; the bad
    // chunked framing it then skips closes the connection silently.
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n");
    let raw = c.read_to_eof();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(
        text.ends_with("\r\n\r\nHello, World!"),
        "one response only: {text}"
    );
}

#[test]
fn a_chunk_size_past_the_route_limit_is_413_at_once() {
    // The size line alone says the body is too large: no waiting for its data.
    let server = Server::start(&["--max-body", "1M"]);
    let mut c = server.connect();
    c.send(
        b"POST /session/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
          Content-Type: application/x-www-form-urlencoded\r\n\r\nfffffffffff\r\n",
    );
    let resp = c.read_response();
    resp.assert_status(413);
    assert!(
        resp.body_str().contains("limit of 1048576 bytes"),
        "{}",
        resp.body_str()
    );
}

#[test]
fn a_head_typed_by_hand_is_served_and_a_stalled_line_gets_a_408_saying_which() {
    // The head timer counts per line: lines 1.2 s apart with a 2 s timer are served,
    // though the whole head takes 3.6 s.
    let server = Server::start(&["--header-timeout", "2"]);
    let mut c = server.connect();
    for line in [
        &b"GET /plaintext HTTP/1.1\r\n"[..],
        b"Host: x\r\n",
        b"A: b\r\n",
    ] {
        c.send(line);
        std::thread::sleep(Duration::from_millis(1200));
    }
    c.send(b"\r\n");
    c.read_response().assert_status(200);
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n");
    let resp = c.read_response();
    resp.assert_status(408);
    assert!(
        resp.body_str()
            .contains("no new line of the head for 2 s after line 2")
            && resp.body_str().contains("--header-timeout"),
        "{}",
        resp.body_str()
    );
}

#[test]
fn a_stalled_body_gets_a_408_saying_how_much_came() {
    let server = Server::start(&["--body-timeout", "0.5"]);
    let mut c = server.connect();
    c.send(
        b"POST /session/ HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\
          Content-Type: application/x-www-form-urlencoded\r\n\r\naction=clea",
    );
    let resp = c.read_response();
    resp.assert_status(408);
    assert!(
        resp.body_str().contains(
            "11 of the 15 bytes announced by Content-Length arrived, then nothing for 0.5 s"
        ),
        "{}",
        resp.body_str()
    );
}
