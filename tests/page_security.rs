//! SPEC "Security and bounds", the page-level part: the security headers on every
//! response (connection-layer errors included), the `Host` allowlist for browser
//! requests (DNS rebinding), the `sessionid` cut wherever a body shows it, no symbolic
//! links under `/uploads/` and `/static/`, the cart's bounds whatever the session holds,
//! and the cookie lab's `max_age` bound at `i64::MIN`.

mod support;

use support::{Response, Server, escape, get};

/// A request with extra header lines (`"Name: value"`) and a body.
fn request(method: &str, path: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\n");
    if !headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"))
    {
        r.push_str("Host: x\r\n");
    }
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if !body.is_empty() {
        r.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

const HTML_ONLY: [(&str, &str); 3] = [
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("referrer-policy", "same-origin"),
];

#[track_caller]
fn assert_nosniff(resp: &Response) {
    assert_eq!(
        resp.header("x-content-type-options"),
        Some("nosniff"),
        "no nosniff in:\n{}",
        escape(&resp.raw)
    );
}

#[track_caller]
fn assert_html_headers(resp: &Response, present: bool) {
    for (name, value) in HTML_ONLY {
        let want = present.then_some(value);
        assert_eq!(resp.header(name), want, "{name} in:\n{}", escape(&resp.raw));
    }
}

// --- Security headers --------------------------------------------------------------

#[test]
fn html_pages_carry_every_security_header() {
    let server = Server::start(&[]);
    for path in [
        "/",
        "/products/",
        "/cart/",
        "/session/",
        "/cookies/",
        "/upload/",
    ] {
        let resp = server.request(&get(path));
        resp.assert_status(200)
            .assert_header_starts("content-type", "text/html");
        assert_nosniff(&resp);
        assert_html_headers(&resp, true);
    }
    // An HTML error page too.
    let resp = server.request(&request(
        "GET",
        "/products/999/",
        &["Accept: text/html"],
        "",
    ));
    resp.assert_status(404);
    assert_nosniff(&resp);
}

#[test]
fn other_responses_carry_nosniff_only() {
    let server = Server::start(&[]);
    for (path, accept) in [
        ("/products/", "application/json"),
        ("/echo", "application/json"),
        ("/static/style.css", "*/*"),
        ("/nowhere", "*/*"),
        ("/cart", "*/*"),
    ] {
        let resp = server.request(&request("GET", path, &[&format!("Accept: {accept}")], ""));
        assert_nosniff(&resp);
        assert_html_headers(&resp, false);
    }
    // A 405 of /plaintext is an error page like any other.
    let resp = server.request(&request("POST", "/plaintext", &[], "a=1"));
    resp.assert_status(405);
    assert_nosniff(&resp);
}

#[test]
fn plaintext_and_json_carry_no_security_header() {
    let server = Server::start(&[]);
    for path in ["/plaintext", "/json"] {
        let resp = server.request(&get(path));
        resp.assert_status(200);
        assert_eq!(resp.header("x-content-type-options"), None, "{path}");
        assert_html_headers(&resp, false);
    }
}

#[test]
fn parser_and_connection_errors_carry_nosniff() {
    let server = Server::start(&["--header-timeout", "0.5"]);
    let bad: [(&[u8], u16); 4] = [
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400),
        (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            501,
        ),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n", 400),
    ];
    for (bytes, status) in bad {
        let resp = server.request(bytes);
        resp.assert_status(status);
        assert_nosniff(&resp);
    }
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let resp = server.request(big.as_bytes());
    resp.assert_status(431);
    assert_nosniff(&resp);
    let resp =
        server.request(b"POST /session/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
    resp.assert_status(413);
    assert_nosniff(&resp);
    // 408: a head that never completes.
    let mut c = server.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n");
    let resp = c.read_response();
    resp.assert_status(408);
    assert_nosniff(&resp);
}

#[test]
fn the_503_past_max_connections_carries_nosniff() {
    let server = Server::start(&["--workers", "1", "--max-connections", "1"]);
    let mut held = server.connect();
    held.request(&get("/plaintext")).assert_status(200);
    let mut extra = server.connect();
    let text = String::from_utf8_lossy(&extra.read_to_eof()).into_owned();
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    assert!(
        text.contains("\r\nX-Content-Type-Options: nosniff\r\n"),
        "{text}"
    );
    // The hand-written bytes still frame their body exactly.
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body.len(), len, "{text}");
    drop(held);
}

// --- The sessionid cut ---------------------------------------------------------------

/// A real session: set one value through the inspector, return its id.
fn new_session(server: &Server) -> String {
    let resp = server.request(&request(
        "POST",
        "/session/",
        &[],
        "action=set&key=a&value=1",
    ));
    resp.assert_status(302);
    let set = resp.header("set-cookie").expect("a Set-Cookie").to_string();
    let id = set
        .strip_prefix("sessionid=")
        .and_then(|rest| rest.split(';').next())
        .expect("a sessionid cookie")
        .to_string();
    assert!(id.len() > 6, "{id}");
    id
}

/// What a page shows of the id: its first 6 characters and `…`.
fn cut(id: &str) -> String {
    format!("{}…", &id[..6])
}

#[track_caller]
fn assert_cut(resp: &Response, id: &str) {
    let body = resp.body_str();
    assert!(!body.contains(id), "the whole id {id} in:\n{body}");
    assert!(body.contains(&cut(id)), "no {} in:\n{body}", cut(id));
}

#[test]
fn echo_shows_only_the_start_of_the_sessionid() {
    let server = Server::start(&[]);
    let id = new_session(&server);
    let cookie = format!("Cookie: theme=dark; sessionid={id}");
    let resp = server.request(&request("GET", "/echo", &[&cookie], ""));
    resp.assert_status(200);
    assert_cut(&resp, &id);
    let doc = resp.json();
    assert_eq!(doc["cookies"]["sessionid"], cut(&id));
    assert_eq!(doc["cookies"]["theme"], "dark");
    // The raw Cookie field in "headers" is cut the same way, other cookies kept.
    let raw = doc["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "Cookie")
        .unwrap()[1]
        .clone();
    assert_eq!(raw, format!("theme=dark; sessionid={}", cut(&id)));
}

#[test]
fn the_cookie_lab_shows_only_the_start_of_the_sessionid() {
    let server = Server::start(&[]);
    let id = new_session(&server);
    let cookie = format!("Cookie: sessionid={id}; theme=dark");
    for accept in ["application/json", "text/html"] {
        let accept = format!("Accept: {accept}");
        let resp = server.request(&request("GET", "/cookies/", &[&cookie, &accept], ""));
        resp.assert_status(200);
        assert_cut(&resp, &id);
        assert!(resp.body_str().contains("dark"));
    }
    let resp = server.request(&request(
        "GET",
        "/cookies/",
        &[&cookie, "Accept: application/json"],
        "",
    ));
    let doc = resp.json();
    assert_eq!(doc["cookies"]["sessionid"], cut(&id));
    assert_eq!(doc["sent"][0]["value"], cut(&id));
    assert_eq!(doc["header"], format!("sessionid={}; theme=dark", cut(&id)));
}

#[test]
fn the_session_inspector_shows_only_the_start_of_its_key() {
    let server = Server::start(&[]);
    let id = new_session(&server);
    let cookie = format!("Cookie: sessionid={id}");
    for accept in ["application/json", "text/html"] {
        let accept = format!("Accept: {accept}");
        let resp = server.request(&request("GET", "/session/", &[&cookie, &accept], ""));
        resp.assert_status(200);
        assert_cut(&resp, &id);
    }
    let resp = server.request(&request(
        "GET",
        "/session/",
        &[&cookie, "Accept: application/json"],
        "",
    ));
    assert_eq!(resp.json()["key"], cut(&id));
    assert_eq!(resp.json()["data"]["a"], 1);
}

// --- Host allowlist (DNS rebinding) ------------------------------------------------

#[test]
fn a_browser_request_naming_another_host_is_refused_with_400() {
    let server = Server::start(&[]);
    // A page of evil.example that rebound its name to 127.0.0.1: the browser sends
    // its own origin, and Host: evil.example.
    for (method, path, body) in [
        ("GET", "/session/", ""),
        ("GET", "/plaintext", ""),
        ("GET", "/echo", ""),
        ("POST", "/cart/add/", "product=1"),
    ] {
        let resp = server.request(&request(
            method,
            path,
            &[
                "Host: evil.example:8000",
                "Origin: http://evil.example:8000",
            ],
            body,
        ));
        resp.assert_status(400)
            .assert_body_contains("evil.example")
            .assert_body_contains("--allowed-host");
        assert_nosniff(&resp);
    }
    // Case and port do not matter for the refusal either.
    let resp = server.request(&request(
        "GET",
        "/",
        &["Host: EVIL.example", "Origin: http://EVIL.example"],
        "",
    ));
    resp.assert_status(400);
}

#[test]
fn local_names_and_the_listen_address_are_allowed_on_any_port() {
    let server = Server::start(&[]);
    let listen = server.addr.to_string();
    for host in [
        "localhost:1234",
        "LOCALHOST",
        "127.0.0.1:8000",
        "127.0.0.1",
        "[::1]:8000",
        "[::1]",
        listen.as_str(),
    ] {
        let h = format!("Host: {host}");
        let o = format!("Origin: http://{host}");
        let resp = server.request(&request("GET", "/cart/", &[&h, &o], ""));
        resp.assert_status(200);
        // Same-origin POSTs from these hosts work as before.
        let resp = server.request(&request("POST", "/cart/add/", &[&h, &o], "product=1"));
        resp.assert_status(302);
    }
    // A look-alike is not localhost.
    for host in ["localhost.evil.example", "127.0.0.1.nip.io", "[::2]:8000"] {
        let h = format!("Host: {host}");
        let o = format!("Origin: http://{host}");
        server
            .request(&request("GET", "/cart/", &[&h, &o], ""))
            .assert_status(400);
    }
}

#[test]
fn requests_without_origin_may_name_any_host() {
    let server = Server::start(&[]);
    for host in ["x", "evil.example", "EVIL.example:8000"] {
        let h = format!("Host: {host}");
        server
            .request(&request("GET", "/cart/", &[&h], ""))
            .assert_status(200);
    }
}

#[test]
fn allowed_host_flags_and_the_variable_add_names() {
    let server = Server::start(&[
        "--allowed-host",
        "evil.example",
        "--allowed-host",
        ".corp.example",
    ]);
    for host in [
        "evil.example",
        "Evil.Example:8000",
        "corp.example",
        "www.corp.example:81",
    ] {
        let h = format!("Host: {host}");
        let o = format!("Origin: http://{host}");
        server
            .request(&request("GET", "/cart/", &[&h, &o], ""))
            .assert_status(200);
    }
    server
        .request(&request(
            "GET",
            "/cart/",
            &["Host: other.example", "Origin: http://other.example"],
            "",
        ))
        .assert_status(400);

    let any = Server::start(&["--allowed-host", "*"]);
    any.request(&request(
        "GET",
        "/cart/",
        &["Host: other.example", "Origin: http://other.example"],
        "",
    ))
    .assert_status(200);
}

// --- The cookie lab's bound at i64::MIN ----------------------------------------------

#[test]
fn cookie_lab_refuses_i64_min_like_any_out_of_range_number() {
    let server = Server::start(&[]);
    for field in ["max_age", "expires"] {
        for n in [
            "-9223372036854775808",
            "9223372036854775807",
            "-315360001",
            "9223372036854775808",
        ] {
            let body = format!("name=a&value=1&{field}={}", n.replace('-', "%2D"));
            let resp = server.request(&request(
                "POST",
                "/cookies/",
                &["Accept: application/json"],
                &body,
            ));
            resp.assert_status(400)
                .assert_body_contains(field)
                .assert_body_contains("ten years");
            assert!(resp.header("set-cookie").is_none(), "{field}={n}");
        }
        // The bound itself is taken, either way.
        for n in ["-315360000", "315360000"] {
            let body = format!("name=a&value=1&{field}={n}");
            server
                .request(&request("POST", "/cookies/", &[], &body))
                .assert_status(302);
        }
    }
}
