//! Real clients against a real server: `curl` and Python's `http.client`.
//!
//! These catch what raw-byte tests cannot: that the framing and connection handling
//! satisfy the clients people actually use. Both programs are required: a missing
//! one fails the test with a message (`scripts/test` and `.ci/run` install them).

mod support;

use serde_json::json;
use std::process::{Command, Output};
use support::Server;

/// Run `program args`, failing the test with a clear message if it is not installed.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}): these tests need it; install it \
             (e.g. `apt-get install -y {program}`) or run scripts/test, which does"
            )
        })
}

/// `curl -sS --max-time 10 ARGS`; fails unless curl exits 0.
#[track_caller]
fn curl(args: &[&str]) -> Output {
    let mut all = vec!["-sS", "--max-time", "10"];
    all.extend_from_slice(args);
    let out = run("curl", &all);
    assert!(
        out.status.success(),
        "curl {all:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The output of `curl -i`: (status line, header lines, body).
fn split_curl_i(stdout: &[u8]) -> (String, Vec<String>, Vec<u8>) {
    let text = stdout;
    let end = text
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in curl -i output: {text:?}"));
    let head = String::from_utf8_lossy(&text[..end]).into_owned();
    let mut lines = head.split("\r\n").map(str::to_string);
    let status = lines.next().unwrap_or_default();
    (status, lines.collect(), text[end + 4..].to_vec())
}

fn has_header(lines: &[String], name: &str, value_prefix: &str) -> bool {
    lines.iter().any(|l| {
        l.split_once(':').is_some_and(|(n, v)| {
            n.eq_ignore_ascii_case(name) && v.trim().starts_with(value_prefix)
        })
    })
}

#[test]
fn curl_get_plaintext() {
    let server = Server::start(&[]);
    let out = curl(&["-i", "--http1.1", &server.url("/plaintext")]);
    let (status, headers, body) = split_curl_i(&out.stdout);
    assert!(status.starts_with("HTTP/1.1 200"), "status line {status:?}");
    assert!(
        has_header(&headers, "content-type", "text/plain"),
        "{headers:?}"
    );
    assert!(has_header(&headers, "server", "wirepost"), "{headers:?}");
    assert!(has_header(&headers, "date", ""), "{headers:?}");
    assert!(has_header(&headers, "content-length", "13"), "{headers:?}");
    assert_eq!(body, b"Hello, World!");
}

#[test]
fn curl_get_json_with_http10() {
    let server = Server::start(&[]);
    let out = curl(&["-i", "--http1.0", &server.url("/json")]);
    let (status, _, body) = split_curl_i(&out.stdout);
    assert!(status.contains(" 200"), "status line {status:?}");
    assert_eq!(body, br#"{"message":"Hello, World!"}"#);
}

#[test]
fn curl_post_form_to_echo() {
    let server = Server::start(&[]);
    let out = curl(&[
        "--http1.1",
        "-d",
        "name=Ada+Lovelace&lang=en&lang=fr",
        &server.url("/echo?q=1"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from /echo");
    assert_eq!(v["method"], json!("POST"));
    assert_eq!(v["query"], json!({"q": ["1"]}));
    assert_eq!(v["body_bytes"], json!(33));
    assert_eq!(v["chunked"], json!(false));
    let names: Vec<&str> = v["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h[0].as_str())
        .collect();
    assert_eq!(names.first(), Some(&"Host"), "{names:?}");
    assert!(names.contains(&"Content-Type"), "{names:?}");
    assert_eq!(
        v["form"],
        json!({"name": ["Ada Lovelace"], "lang": ["en", "fr"]}),
        "SPEC /echo form; got {v}"
    );
}

#[test]
fn curl_chunked_upload_to_echo() {
    let server = Server::start(&[]);
    let dir = support::temp_dir("curl");
    let file = dir.join("body.bin");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    let at = format!("@{}", file.display());
    let out = curl(&[
        "--http1.1",
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &at,
        &server.url("/echo"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON from /echo");
    assert_eq!(v["chunked"], json!(true), "{v}");
    assert_eq!(v["body_bytes"], json!(data.len()), "{v}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn curl_expect_100_continue() {
    // curl sends `Expect: 100-continue` for larger bodies and waits for the 100.
    let server = Server::start(&[]);
    let body = "x".repeat(2000);
    let out = curl(&[
        "--http1.1",
        "-i",
        "-H",
        "Expect: 100-continue",
        "-H",
        "Content-Type: text/plain",
        "--expect100-timeout",
        "5",
        "--data-binary",
        &body,
        &server.url("/echo"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("HTTP/1.1 100 Continue\r\n"),
        "expected a 100 Continue first; got:\n{text}"
    );
    let v: serde_json::Value =
        serde_json::from_str(text.rsplit("\r\n\r\n").next().unwrap()).expect("JSON");
    assert_eq!(v["body_bytes"], json!(2000));
}

#[test]
fn curl_head() {
    let server = Server::start(&[]);
    let out = curl(&["-I", "--http1.1", &server.url("/plaintext")]);
    let (status, headers, body) = split_curl_i(&out.stdout);
    assert!(status.starts_with("HTTP/1.1 200"), "status line {status:?}");
    assert!(has_header(&headers, "content-length", "13"), "{headers:?}");
    assert!(body.is_empty(), "HEAD got a body: {body:?}");
}

#[test]
fn curl_reuses_the_connection_for_several_urls() {
    let server = Server::start(&[]);
    let urls = [
        server.url("/plaintext"),
        server.url("/json"),
        server.url("/echo"),
        server.url("/nope"),
    ];
    // `num_connects` is the number of new connections each transfer made: 0 when
    // curl re-used the previous one. (Its -v wording changes between versions.)
    let mut args = vec!["-v", "--http1.1", "-w", "%{http_code} %{num_connects}\\n"];
    for url in &urls {
        args.extend_from_slice(&["-o", "/dev/null", url.as_str()]);
    }
    let out = curl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["200 1", "200 0", "200 0", "404 0"],
        "one connection for all four URLs expected; curl -v said:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn python_http_client_keep_alive_get_post_head_chunked() {
    let server = Server::start(&[]);
    let script = support::repo_root().join("tests/py/http_client_check.py");
    let port = server.addr.port().to_string();
    let out = run("python3", &[script.to_str().unwrap(), &port]);
    assert!(
        out.status.success(),
        "tests/py/http_client_check.py failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
