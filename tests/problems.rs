//! One error path: 404, 405, 403 and 400 answer in the client's format (SPEC
//! "Protocol"): HTML to a browser's `Accept: text/html`, JSON to
//! `Accept: application/json`, plain text otherwise (nc, curl).

mod support;

use serde_json::json;
use support::{Response, Server};

fn request(method: &str, path: &str, headers: &[&str]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if method == "POST" {
        r.push_str("Content-Length: 0\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

const BROWSER: &str = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Each case: method, path, extra headers, status, the text body's message.
fn cases() -> Vec<(
    &'static str,
    &'static str,
    Vec<&'static str>,
    u16,
    &'static str,
)> {
    vec![
        ("GET", "/nowhere", vec![], 404, "no page at /nowhere"),
        (
            "POST",
            "/products/",
            vec![],
            405,
            "method not allowed here; see the Allow header",
        ),
        (
            "POST",
            "/cart/add/",
            vec!["Origin: http://evil.example"],
            403,
            "cross-origin POST refused: the Origin header names another site than this Host",
        ),
    ]
}

fn check_text(resp: &Response, status: u16, message: &str) {
    resp.assert_status(status);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/plain"),
        "{resp:?}"
    );
    let reason = match status {
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => unreachable!(),
    };
    assert_eq!(resp.body_str(), format!("{status} {reason}: {message}\n"));
}

#[test]
fn errors_answer_text_by_default() {
    let server = Server::start(&[]);
    for (method, path, headers, status, message) in cases() {
        let resp = server.request(&request(method, path, &headers));
        check_text(&resp, status, message);
        let mut with = headers.clone();
        with.push("Accept: */*");
        let resp = server.request(&request(method, path, &with));
        check_text(&resp, status, message);
    }
}

#[test]
fn errors_answer_json_to_json_clients() {
    let server = Server::start(&[]);
    for (method, path, mut headers, status, message) in cases() {
        headers.push("Accept: application/json");
        let resp = server.request(&request(method, path, &headers));
        resp.assert_status(status);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(resp.json(), json!({"status": status, "error": message}));
        if status == 405 {
            assert_eq!(resp.header("allow"), Some("GET, HEAD"));
        }
    }
}

#[test]
fn errors_answer_html_to_browsers() {
    let server = Server::start(&[]);
    for (method, path, mut headers, status, message) in cases() {
        headers.push(BROWSER);
        let resp = server.request(&request(method, path, &headers));
        resp.assert_status(status);
        assert!(
            resp.header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{resp:?}"
        );
        let body = resp.body_str();
        assert!(body.contains("<!DOCTYPE html>") || body.contains("<!doctype html>"));
        assert!(body.contains(&format!("<h1>{status} ")), "{body}");
        assert!(
            body.contains("Content-Security-Policy")
                || resp.header("content-security-policy").is_some()
        );
        assert!(body.contains(message), "{body}");
    }
}

#[test]
fn rebinding_refusal_answers_json() {
    let server = Server::start(&[]);
    let resp = server.request(
        b"GET / HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\nAccept: application/json\r\n\r\n",
    );
    resp.assert_status(400);
    let v = resp.json();
    assert_eq!(v["status"], 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("--allowed-host evil.example")
    );
}

fn post_with(path: &str, content_type: &str, body: &str, headers: &[&str]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

const FORM: &str = "application/x-www-form-urlencoded";

#[test]
fn form_and_session_refusals_answer_by_accept() {
    let server = Server::start(&[]);
    // The session lab refuses an unknown action: text by default, JSON on request.
    let resp = server.request(&post_with("/session/", FORM, "action=fly", &[]));
    resp.assert_status(400);
    assert_eq!(
        resp.body_str(),
        "400 Bad Request: unknown action \"fly\": use set, delete, clear or expiry\n"
    );
    let resp = server.request(&post_with(
        "/session/",
        FORM,
        "action=fly",
        &["Accept: application/json"],
    ));
    resp.assert_status(400);
    assert_eq!(
        resp.json(),
        json!({"status": 400, "error": "unknown action \"fly\": use set, delete, clear or expiry"})
    );
    let resp = server.request(&post_with("/session/", FORM, "action=fly", &[BROWSER]));
    resp.assert_status(400);
    resp.assert_header_starts("content-type", "text/html")
        .assert_body_contains("role=\"alert\"");

    // A form page given another content type: 415, in JSON on request.
    let resp = server.request(&post_with(
        "/cart/add/",
        "text/plain",
        "product=1",
        &["Accept: application/json"],
    ));
    resp.assert_status(415);
    assert_eq!(
        resp.json(),
        json!({"status": 415, "error": "this form takes application/x-www-form-urlencoded"})
    );
}

#[test]
fn an_upload_without_a_file_says_so_in_the_forms_words() {
    let server = Server::start(&[]);
    let body = "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n--b--\r\n";
    let resp = server.request(&post_with(
        "/upload/",
        "multipart/form-data; boundary=b",
        body,
        &["Accept: application/json"],
    ));
    resp.assert_status(400);
    let v = resp.json();
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("choose a file to upload"), "{error}");
    assert!(error.contains("Files"), "{error}");
    assert!(!error.contains("headimg"), "{error}");
}

#[test]
fn the_path_is_percent_decoded_once_before_routing() {
    let server = Server::start(&[]);
    let plain = server.request(&request("GET", "/products/3/", &[]));
    plain.assert_status(200);
    let resp = server.request(&request("GET", "/products/%33/", &[]));
    resp.assert_status(200);
    // The same page (its "On the wire" panel shows each request's own bytes).
    let page = |body: String| {
        body.split("<details class=\"wire-panel\">")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(page(resp.body_str()), page(plain.body_str()));
    let resp = server.request(&request("GET", "/static/hello%2Ehtml", &[]));
    resp.assert_status(200);
    for (path, segment) in [
        ("/static/a%2Fb", "a%2Fb"),
        ("/static/a%00b", "a%00b"),
        ("/products/%ff/", "%ff"),
        ("/uploads/x%2Fy", "x%2Fy"),
    ] {
        let resp = server.request(&request("GET", path, &[]));
        resp.assert_status(400);
        assert!(
            resp.body_str()
                .starts_with("400 Bad Request: the path segment"),
            "{path}: {}",
            resp.body_str()
        );
        assert!(resp.body_str().contains(segment), "{path}");
        let resp = server.request(&request("GET", path, &[BROWSER]));
        resp.assert_status(400);
        resp.assert_header_starts("content-type", "text/html")
            .assert_body_contains(&format!("<code>{segment}</code>"));
    }
    // Refused from the head: a POST's body is never read.
    let resp = server.request(&post_with("/cart/%ff/", FORM, "x=1", &[]));
    resp.assert_status(400);
}

#[test]
fn a_refused_upload_answers_by_accept() {
    let server = Server::start(&["--max-upload-files", "1"]);
    let body = "--b\r\nContent-Disposition: form-data; name=\"headimg\"; filename=\"a.txt\"\r\n\r\na\r\n\
                --b\r\nContent-Disposition: form-data; name=\"headimg\"; filename=\"b.txt\"\r\n\r\nb\r\n--b--\r\n";
    let resp = server.request(&post_with(
        "/upload/",
        "multipart/form-data; boundary=b",
        body,
        &["Accept: application/json"],
    ));
    resp.assert_status(400);
    assert_eq!(
        resp.json(),
        json!({"status": 400, "error": "more than 1 files in one upload"})
    );
    assert!(resp.says_close());
}

#[test]
fn connection_errors_answer_in_the_clients_format_and_show_the_bad_line() {
    // A head the parser refuses: the Accept line before the fault still counts.
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nBad Name: v\r\n\r\n");
    let resp = c.read_response();
    resp.assert_status(400);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(v["status"], json!(400));
    assert!(v["error"].as_str().unwrap().starts_with("line 4: "), "{v}");

    let mut c = server.connect();
    c.send(format!("GET / HTTP/1.1\r\nHost: x\r\n{BROWSER}\r\nBad Name: v\r\n\r\n").as_bytes());
    let resp = c.read_response();
    resp.assert_status(400);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html"),
        "{resp:?}"
    );
    let html = resp.body_str();
    assert!(
        html.contains("Bad Name: v"),
        "the offending line is shown: {html}"
    );

    // nc and curl get text, as before.
    let mut c = server.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n");
    let resp = c.read_response();
    resp.assert_status(400);
    assert!(
        resp.body_str().starts_with("400 Bad Request: line 3: "),
        "{}",
        resp.body_str()
    );
}

#[test]
fn file_errors_answer_in_the_clients_format() {
    let server = Server::start(&[]);
    for path in ["/static/no-such-file.txt", "/uploads/no-such-upload.png"] {
        let resp = server.request(&request("GET", path, &["Accept: application/json"]));
        resp.assert_status(404);
        assert_eq!(
            resp.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(v["status"], json!(404));
        let resp = server.request(&request("GET", path, &[BROWSER]));
        resp.assert_status(404);
        assert!(
            resp.header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let resp = server.request(&request("GET", path, &[]));
        assert!(resp.body_str().starts_with("404 Not Found: no "), "{path}");
    }
}
