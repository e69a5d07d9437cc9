//! Uploads: `POST /upload/` with real clients (curl -F, Python http.client) and raw
//! bytes; stored files byte for byte; nothing left behind by a failed, aborted or
//! oversized upload.

mod support;

use serde_json::{Value, json};
use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::Server;

fn uploads_dir(server: &Server) -> PathBuf {
    server.dir.join("data").join("uploads")
}

/// Names in the uploads directory (temporary files included).
fn stored_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Wait until the uploads directory holds exactly `n` entries (the server removes a
/// failed upload's temp file when it notices the failure).
fn wait_for_entries(dir: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let names = stored_names(dir);
        if names.len() == n || Instant::now() > deadline {
            return names;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

fn upload_request(boundary: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /upload/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn pattern(n: usize) -> Vec<u8> {
    // Every byte value, and boundary look-alikes, in the data.
    let mut v: Vec<u8> = (0..n).map(|i| (i * 7 % 256) as u8).collect();
    for chunk in v.chunks_mut(1000) {
        if chunk.len() > 10 {
            chunk[..6].copy_from_slice(b"\r\n--XY");
        }
    }
    v
}

#[test]
fn curl_form_upload_is_stored_byte_for_byte_with_the_spec_json() {
    let server = Server::start(&[]);
    let file = server.dir.join("cat.png");
    let data = pattern(300_000); // large enough for curl to send Expect: 100-continue
    fs::write(&file, &data).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-v", "-H", "Accept: application/json"])
        .args(["-F", "username=ada"])
        .args(["-F", &format!("headimg=@{}", file.display())])
        .arg(server.url("/upload/"))
        .output()
        .expect("curl must be installed (scripts/test installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("< HTTP/1.1 201"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["fields"], json!({"username": ["ada"]}));
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let f = &files[0];
    assert_eq!(f["field"], json!("headimg"));
    assert_eq!(f["filename"], json!("cat.png"));
    assert_eq!(f["size"], json!(data.len()));
    let stored = f["stored"].as_str().unwrap();
    // cat-<13 digits>.png
    assert!(
        stored.starts_with("cat-") && stored.ends_with(".png"),
        "{stored}"
    );
    let ms = &stored[4..stored.len() - 4];
    assert!(
        ms.len() == 13 && ms.bytes().all(|b| b.is_ascii_digit()),
        "{stored}"
    );
    assert_eq!(f["url"], json!(format!("/uploads/{stored}")));
    assert_eq!(fs::read(uploads_dir(&server).join(stored)).unwrap(), data);
    assert_eq!(
        stored_names(&uploads_dir(&server)),
        vec![stored.to_string()]
    );
}

#[test]
fn curl_sends_expect_100_continue_and_gets_100_first() {
    let server = Server::start(&[]);
    let file = server.dir.join("big.bin");
    fs::write(&file, pattern(2 << 20)).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-v", "-H", "Expect: 100-continue"])
        .args(["-F", &format!("headimg=@{}", file.display())])
        .arg(server.url("/upload/"))
        .output()
        .expect("curl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("> Expect: 100-continue"), "{stderr}");
    assert!(stderr.contains("< HTTP/1.1 100 Continue"), "{stderr}");
    assert!(stderr.contains("< HTTP/1.1 201 Created"), "{stderr}");
}

#[test]
fn python_http_client_multipart_upload() {
    let server = Server::start(&[]);
    let script = r#"
import http.client, json, sys
port = int(sys.argv[1])
b = "pyboundary123"
data = bytes(range(256)) * 40
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n"
        f"--{b}\r\nContent-Disposition: form-data; name=\"headimg\"; filename=\"C:\\\\Users\\\\bob\\\\face.jpg\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{b}--\r\n".encode()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("POST", "/upload/", body=body, headers={
    "Content-Type": f"multipart/form-data; boundary={b}", "Accept": "application/json"})
r = c.getresponse()
assert r.status == 201, (r.status, r.read())
v = json.loads(r.read())
f = v["files"][0]
assert v["fields"] == {"username": ["bob"]}, v
assert f["filename"].endswith("face.jpg"), f
assert f["stored"].startswith("face-") and f["stored"].endswith(".jpg"), f
assert f["size"] == len(data), f
print(f["stored"])
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(server.addr.port().to_string())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let expect: Vec<u8> = (0..=255u8).collect::<Vec<_>>().repeat(40);
    assert_eq!(
        fs::read(uploads_dir(&server).join(&stored)).unwrap(),
        expect
    );
}

#[test]
fn chunked_multipart_upload_is_stored() {
    let server = Server::start(&[]);
    let data = pattern(100_000);
    let body = multipart("chunky", &[("headimg", Some("c.bin"), &data)]);
    let mut req = b"POST /upload/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\
Content-Type: multipart/form-data; boundary=chunky\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for piece in body.chunks(777) {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let resp = server.request(&req);
    resp.assert_status(201);
    let v = resp.json();
    let stored = v["files"][0]["stored"].as_str().unwrap();
    assert_eq!(fs::read(uploads_dir(&server).join(stored)).unwrap(), data);
}

#[test]
fn two_same_named_files_in_one_millisecond_get_distinct_names() {
    let server = Server::start(&[]);
    let body = multipart(
        "b0undary",
        &[
            ("headimg", Some("cat.png"), b"first"),
            ("headimg", Some("cat.png"), b"second"),
        ],
    );
    let resp = server.request(&upload_request("b0undary", &body));
    resp.assert_status(201);
    let v = resp.json();
    let a = v["files"][0]["stored"].as_str().unwrap().to_string();
    let b = v["files"][1]["stored"].as_str().unwrap().to_string();
    assert_ne!(a, b);
    // Committed in the same millisecond: the second gets `-1` before the extension.
    assert_eq!(b, a.replace(".png", "-1.png"));
    let dir = uploads_dir(&server);
    assert_eq!(fs::read(dir.join(&a)).unwrap(), b"first");
    assert_eq!(fs::read(dir.join(&b)).unwrap(), b"second");
}

#[test]
fn an_upload_aborted_half_way_leaves_no_file_and_others_are_served() {
    let server = Server::start(&[]);
    let data = pattern(1 << 20);
    let body = multipart("abort", &[("headimg", Some("half.bin"), &data)]);
    let req = upload_request("abort", &body);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(&req[..req.len() / 2]).unwrap();
    // Meanwhile the server answers others.
    server
        .request(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        .assert_status(200);
    // The temp file exists while the upload is in progress...
    assert_eq!(wait_for_entries(&uploads_dir(&server), 1).len(), 1);
    drop(s);
    // ...and is gone once the client has vanished.
    assert_eq!(
        wait_for_entries(&uploads_dir(&server), 0),
        Vec::<String>::new()
    );
}

#[test]
fn malformed_oversized_and_unsupported_uploads_leave_nothing() {
    let server = Server::start(&["--max-upload", "50000"]);
    let dir = uploads_dir(&server);

    // No final boundary.
    let mut body = multipart("cut", &[("headimg", Some("a.bin"), b"abc")]);
    body.truncate(body.len() - 10);
    let resp = server.request(&upload_request("cut", &body));
    resp.assert_status(400);
    resp.assert_body_contains("closing boundary");

    // Too large by Content-Length: refused before reading.
    let big = multipart("big", &[("headimg", Some("b.bin"), &pattern(60_000))]);
    let mut c = server.connect();
    let resp = c.request(&upload_request("big", &big));
    resp.assert_status(413);
    assert!(resp.says_close());

    // Too large, chunked (no length up front): refused when crossing the limit.
    let mut req = b"POST /upload/ HTTP/1.1\r\nHost: x\r\n\
Content-Type: multipart/form-data; boundary=big\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for piece in big.chunks(4096) {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let resp = server.request(&req);
    resp.assert_status(413);

    // Not multipart; multipart without a boundary.
    let resp = server.request(
        b"POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc",
    );
    resp.assert_status(415);
    let resp = server.request(
        b"POST /upload/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 3\r\n\r\nabc",
    );
    resp.assert_status(400);
    resp.assert_body_contains("boundary");

    // A form with no file chosen (browsers send an empty filename).
    let body = multipart(
        "nofile",
        &[("username", None, b"ada"), ("headimg", Some(""), b"")],
    );
    let resp = server.request(&upload_request("nofile", &body));
    resp.assert_status(400);

    assert_eq!(wait_for_entries(&dir, 0), Vec::<String>::new());
}

#[test]
fn upload_form_page_and_json() {
    let server = Server::start(&[]);
    let resp = server.request(b"GET /upload/ HTTP/1.1\r\nHost: x\r\n\r\n");
    resp.assert_status(200);
    resp.assert_body_contains("enctype=\"multipart/form-data\"");
    resp.assert_body_contains("name=\"username\"");
    resp.assert_body_contains("name=\"headimg\"");
    let resp =
        server.request(b"GET /upload/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
    resp.assert_status(200);
    assert_eq!(resp.json()["enctype"], json!("multipart/form-data"));
}

/// Upload `data` as `filename` and return the stored name.
fn upload_one(server: &Server, filename: &str, data: &[u8]) -> String {
    let body = multipart("srv", &[("headimg", Some(filename), data)]);
    let resp = server.request(&upload_request("srv", &body));
    resp.assert_status(201);
    resp.json()["files"][0]["stored"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn stored_uploads_are_served_byte_for_byte_with_ranges() {
    let server = Server::start(&[]);
    let data = pattern(200_000);
    let name = upload_one(&server, "photo.png", &data);

    let resp =
        server.request(format!("GET /uploads/{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    resp.assert_status(200);
    assert_eq!(resp.body, data);
    assert_eq!(resp.header("content-type"), Some("image/png"));
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));

    let resp = server.request(
        format!("GET /uploads/{name} HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n")
            .as_bytes(),
    );
    resp.assert_status(206);
    assert_eq!(resp.body, &data[100..200]);
    assert_eq!(
        resp.header("content-range"),
        Some(format!("bytes 100-199/{}", data.len()).as_str())
    );
    let resp = server.request(
        format!("GET /uploads/{name} HTTP/1.1\r\nHost: x\r\nRange: bytes=-10\r\n\r\n").as_bytes(),
    );
    resp.assert_status(206);
    assert_eq!(resp.body, &data[data.len() - 10..]);
    let resp = server.request(
        format!("GET /uploads/{name} HTTP/1.1\r\nHost: x\r\nRange: bytes=999999-\r\n\r\n")
            .as_bytes(),
    );
    resp.assert_status(416);
    assert_eq!(
        resp.header("content-range"),
        Some(format!("bytes */{}", data.len()).as_str())
    );
}

#[test]
fn uploaded_html_and_svg_are_attachments_never_rendered_inline() {
    let server = Server::start(&[]);
    for (file, ct) in [("page.html", "text/html"), ("pic.svg", "image/svg+xml")] {
        let name = upload_one(&server, file, b"<script>alert(1)</script>");
        let resp =
            server.request(format!("GET /uploads/{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        resp.assert_status(200);
        assert!(resp.header("content-type").unwrap().starts_with(ct));
        assert!(
            resp.header("content-disposition")
                .unwrap()
                .starts_with("attachment"),
            "{file}"
        );
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    }
}

#[test]
fn uploads_cannot_be_escaped() {
    let server = Server::start(&[]);
    upload_one(&server, "a.txt", b"a");
    for target in [
        "/uploads/../Cargo.toml",
        "/uploads/%2e%2e/Cargo.toml",
        "/uploads/..%2fCargo.toml",
        "/uploads/%00",
        "/uploads/",
        "/uploads/.tmp-1-1",
    ] {
        let resp = server.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert!(
            matches!(resp.status, 400 | 404),
            "{target}: {}",
            resp.status
        );
        assert!(!resp.body_str().contains("[package]"), "{target}");
    }
}

#[test]
fn non_ascii_names_get_percent_encoded_urls_that_serve_the_file() {
    let server = Server::start(&[]);
    let body = multipart("utf", &[("headimg", Some("café.txt"), b"bonjour")]);
    let resp = server.request(&upload_request("utf", &body));
    resp.assert_status(201);
    let v = resp.json();
    let stored = v["files"][0]["stored"].as_str().unwrap();
    let url = v["files"][0]["url"].as_str().unwrap();
    assert!(stored.starts_with("café-"), "{stored}");
    assert!(url.starts_with("/uploads/caf%C3%A9-"), "{url}");
    assert!(url.is_ascii());
    assert_eq!(resp.header("location"), Some(url));
    let resp = server.request(format!("GET {url} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    resp.assert_status(200);
    assert_eq!(resp.body, b"bonjour");
}

#[test]
fn small_files_wait_in_memory_large_ones_spill_to_disk_and_all_are_stored() {
    let server = Server::start(&["--max-upload-files", "3"]);
    let dir = uploads_dir(&server);
    let small_a = pattern(10);
    let big = pattern(200_000); // past the 64 KiB kept in memory per upload
    let small_b = pattern(3000);
    let body = multipart(
        "mix",
        &[
            ("headimg", Some("a.txt"), &small_a),
            ("username", None, b"ada"),
            ("headimg", Some("big.bin"), &big),
            ("headimg", Some("b.txt"), &small_b),
        ],
    );
    let req = upload_request("mix", &body);
    let head_and_small = req.len() - body.len() + 400; // into the first file's part
    let mut c = server.connect();
    c.send(&req[..head_and_small]);
    c.assert_silent_and_open(Duration::from_millis(300));
    // The small file is still in memory: no file made for it yet.
    assert_eq!(stored_names(&dir), Vec::<String>::new());
    let into_big = req.len() - body.len() + 150_000;
    c.send(&req[head_and_small..into_big]);
    c.assert_silent_and_open(Duration::from_millis(300));
    // The big one spilled to one temporary file.
    let names = stored_names(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with(".tmp-"), "{names:?}");
    c.send(&req[into_big..]);
    let resp = c.read_response();
    resp.assert_status(201);
    let v = resp.json();
    assert_eq!(v["fields"], json!({"username": ["ada"]}));
    let files = v["files"].as_array().unwrap();
    let got: Vec<(&str, u64)> = files
        .iter()
        .map(|f| (f["filename"].as_str().unwrap(), f["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![("a.txt", 10), ("big.bin", 200_000), ("b.txt", 3000)]
    );
    for (f, data) in files.iter().zip([&small_a, &big, &small_b]) {
        let stored = f["stored"].as_str().unwrap();
        assert_eq!(&fs::read(dir.join(stored)).unwrap(), data, "{stored}");
    }
    assert_eq!(stored_names(&dir).len(), 3, "no temporary file left");

    // A fourth file is one too many for --max-upload-files 3: 400, nothing stored.
    let four: Vec<(&str, Option<&str>, &[u8])> = (0..4)
        .map(|_| ("headimg", Some("f.txt"), &b"x"[..]))
        .collect();
    let resp = server.request(&upload_request("four", &multipart("four", &four)));
    resp.assert_status(400);
    resp.assert_body_contains("more than 3 files in one upload");
    assert_eq!(wait_for_entries(&dir, 3).len(), 3);
}
