//! `/echo`'s added fields (SPEC "`/echo`"): `raw_head`, `body_text`, `json`, `remote`,
//! and the HTML page a browser gets. Raw bytes in, so the exact head is known.

mod support;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use support::Server;

/// Send `request` on a fresh connection (it must say `Connection: close`); the
/// client's own address, the response head and body.
fn exchange(server: &Server, request: &[u8]) -> (String, String, Vec<u8>) {
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let local = s.local_addr().unwrap().to_string();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let at = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&out[..at + 4]).into_owned();
    (local, head, out[at + 4..].to_vec())
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(body));
    })
}

#[test]
fn raw_head_and_remote_are_the_request_as_received() {
    let server = Server::start(&[]);
    let head = "GET /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Odd:   spaced  \r\n\
                Connection: close\r\n\r\n";
    let (local, _, body) = exchange(&server, head.as_bytes());
    let v = json_of(&body);
    assert_eq!(v["raw_head"], json!(head));
    assert_eq!(v["remote"], json!(local));
    assert_eq!(v["body_text"], Value::Null, "no body: {v}");
    assert_eq!(v["json"], Value::Null);
    // The JSON text carries the CR LF as escapes.
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains(r#""raw_head": "GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n"#),
        "{text}"
    );
    // The old fields are still there.
    assert_eq!(v["target"], "/echo?a=1");
    assert_eq!(v["query"], json!({"a": ["1"]}));
}

#[test]
fn raw_head_cuts_the_sessionid() {
    let server = Server::start(&[]);
    let id = "abcdefghijklmnopqrstuvwxyz012345";
    let head = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nCookie: theme=dark; sessionid={id}; b=2\r\n\
         Connection: close\r\n\r\n"
    );
    let (_, _, body) = exchange(&server, head.as_bytes());
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains(id), "{text}");
    let v = json_of(&body);
    assert_eq!(
        v["raw_head"],
        json!(
            "GET /echo HTTP/1.1\r\nHost: x\r\nCookie: theme=dark; sessionid=abcdef…; b=2\r\n\
             Connection: close\r\n\r\n"
        )
    );
}

#[test]
fn body_text_and_json_for_an_application_json_body() {
    let server = Server::start(&[]);
    let body = r#"{"a": [1, "é"], "b": null}"#;
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (_, _, out) = exchange(&server, req.as_bytes());
    let v = json_of(&out);
    assert_eq!(v["body_text"], json!(body));
    assert_eq!(v["json"], json!({"a": [1, "é"], "b": null}));
    assert!(v.get("json_error").is_none(), "{v}");
    assert_eq!(v["body_bytes"], json!(body.len()));
}

#[test]
fn json_that_does_not_parse_is_null_with_the_parser_message() {
    let server = Server::start(&[]);
    let body = r#"{"a": "#;
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (_, _, out) = exchange(&server, req.as_bytes());
    let v = json_of(&out);
    assert_eq!(v["json"], Value::Null);
    assert_eq!(
        v["json_error"],
        json!("EOF while parsing a value at line 1 column 6")
    );
    assert_eq!(v["body_text"], json!(body));
}

#[test]
fn text_bodies_not_json_have_no_json_and_binary_has_no_body_text() {
    let server = Server::start(&[]);
    let req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
               Content-Length: 5\r\nConnection: close\r\n\r\n{\"a\"}";
    let v = json_of(&exchange(&server, req.as_bytes()).2);
    assert_eq!(v["body_text"], json!("{\"a\"}"));
    assert_eq!(v["json"], Value::Null);
    assert!(v.get("json_error").is_none(), "{v}");

    let mut req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n\
                    Content-Length: 4\r\nConnection: close\r\n\r\n"
        .to_vec();
    req.extend_from_slice(&[0xff, 0xfe, 0x00, 0x41]);
    let v = json_of(&exchange(&server, &req).2);
    assert_eq!(v["body_text"], Value::Null, "{v}");
    assert_eq!(v["body_bytes"], 4);
}

#[test]
fn body_text_is_the_first_64_kib() {
    let server = Server::start(&["--max-body", "200000"]);
    let body = "é".repeat(40_000); // 80,000 bytes; 64 KiB falls inside a character
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let v = json_of(&exchange(&server, req.as_bytes()).2);
    assert_eq!(v["body_bytes"], 80_000);
    assert_eq!(v["body_text"], json!("é".repeat(65_536 / 2)));
}

#[test]
fn multipart_with_a_file_has_no_body_text_without_one_it_has() {
    let server = Server::start(&[]);
    let with_file = "--B\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhi\r\n\
                     --B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\
                     Content-Type: text/plain\r\n\r\nabc\r\n--B--\r\n";
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{with_file}",
        with_file.len()
    );
    let v = json_of(&exchange(&server, req.as_bytes()).2);
    assert_eq!(v["files"][0]["size"], 3, "{v}");
    assert_eq!(v["body_text"], Value::Null, "{v}");

    let fields = "--B\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhi\r\n--B--\r\n";
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{fields}",
        fields.len()
    );
    let v = json_of(&exchange(&server, req.as_bytes()).2);
    assert_eq!(v["form"], json!({"t": ["hi"]}));
    assert_eq!(v["body_text"], json!(fields));
    assert_eq!(v["json"], Value::Null);
}

#[test]
fn a_browser_gets_an_html_page() {
    let server = Server::start(&[]);
    let id = "abcdefghijklmnopqrstuvwxyz012345";
    let req = format!(
        "POST /echo?q=%3Cb%3E HTTP/1.1\r\nHost: x\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\
         Cookie: sessionid={id}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 9\r\nConnection: close\r\n\r\nname=%3Ci"
    );
    let (_, head, body) = exchange(&server, req.as_bytes());
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("Content-Type: text/html; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("Vary: Accept, Cookie\r\n"), "{head}");
    let page = String::from_utf8_lossy(&body);
    assert!(page.contains("<!doctype html>"), "{page}");
    assert!(!page.contains(id), "{page}");
    // The method, the headers a row each, the raw head with its CR LF shown.
    assert!(page.contains("<code>POST</code>"), "{page}");
    assert!(
        page.contains("<tr><td><code>Host</code></td><td><code>x</code></td></tr>"),
        "{page}"
    );
    assert!(
        page.contains("POST /echo?q=%3Cb%3E HTTP/1.1\\r\\n\nHost: x\\r\\n\n"),
        "{page}"
    );
    assert!(page.contains("sessionid=abcdef…\\r\\n\n"), "{page}");
    // Query and form values, auto-escaped.
    assert!(page.contains("&lt;b&gt;"), "{page}");
    assert!(page.contains("&lt;i"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains("name=%3Ci"), "body text: {page}");
}

#[test]
fn curl_and_clients_without_a_browser_accept_still_get_json() {
    let server = Server::start(&[]);
    for accept in ["", "Accept: */*\r\n", "Accept: application/json\r\n"] {
        let req = format!("GET /echo HTTP/1.1\r\nHost: x\r\n{accept}Connection: close\r\n\r\n");
        let (_, head, body) = exchange(&server, req.as_bytes());
        assert!(
            head.contains("Content-Type: application/json\r\n"),
            "{accept}: {head}"
        );
        json_of(&body);
    }
}
