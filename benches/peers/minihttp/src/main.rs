//! A peer for benches/peers: may_minihttp (stackful coroutines on the `may` runtime,
//! the TechEmpower-style minimal HTTP/1.1 server) with ONE worker thread, so that it
//! is compared with `wirepost --workers 1` and nginx's one worker.
//!
//!   peer-minihttp --addr 127.0.0.1:PORT --file www/static/hello.html
//!
//! - `GET /plaintext` -> 200 `Hello, World!`, `Content-Type: text/plain`;
//! - `GET /static/hello.html` -> the file given with `--file`, read ONCE at start and
//!   served from memory, `Content-Type: text/html; charset=utf-8`, and the validators
//!   wirepost sends for it (`ETag: "<mtime hex>-<len hex>"`, `Last-Modified`,
//!   `Accept-Ranges: bytes`), as fixed strings computed at start;
//! - anything else -> 404.
//!
//! may_minihttp writes the status line, `Server: M`, `Date` (formatted every 500 ms
//! by a coroutine) and `Content-Length` itself; the handler adds its header lines as
//! `&'static str`, so the strings built at start are leaked once. Threads: `may`
//! runs coroutines on `set_workers(1)` worker threads (each its own epoll loop),
//! plus one timer thread (sleeps, I/O timeouts; idle here but for the Date coroutine's
//! wake-up twice a second) and the main thread, blocked in `wait()`. Worker pinning
//! is off: benches/wrk/run.sh pins the whole process with `taskset -c 0`.
//!
//! It prints `peer-minihttp listening on http://ADDR/` once the socket is bound (what
//! benches/wrk/run.sh waits for).

use std::io;
use std::time::UNIX_EPOCH;

use may_minihttp::{HttpServer, HttpService, Request, Response};

/// The page, read once, and its header lines.
struct Page {
    body: &'static [u8],
    etag: &'static str,
    last_modified: &'static str,
}

#[derive(Clone)]
struct Peer {
    page: &'static Page,
}

impl HttpService for Peer {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        match (req.method(), req.path()) {
            ("GET", "/plaintext") => {
                rsp.header("Content-Type: text/plain");
                rsp.body("Hello, World!");
            }
            ("GET", "/static/hello.html") => {
                rsp.header("Content-Type: text/html; charset=utf-8");
                rsp.header(self.page.etag);
                rsp.header(self.page.last_modified);
                rsp.header("Accept-Ranges: bytes");
                match std::str::from_utf8(self.page.body) {
                    // One copy, into the response buffer, as for "Hello, World!".
                    Ok(text) => rsp.body(text),
                    // Not UTF-8: two copies (into the body buffer, then the response).
                    Err(_) => rsp.body_mut().extend_from_slice(self.page.body),
                }
            }
            _ => {
                rsp.status_code(404, "Not Found");
                rsp.header("Content-Type: text/plain");
                rsp.body("Not Found");
            }
        }
        Ok(())
    }
}

fn main() {
    let (addr, file) = args();
    let page: &'static Page = Box::leak(Box::new(load(&file)));
    may::config().set_workers(1).set_worker_pin(false);
    let server = HttpServer(Peer { page })
        .start(addr.as_str())
        .unwrap_or_else(|e| {
            eprintln!("peer-minihttp: {addr}: {e}");
            std::process::exit(1);
        });
    println!("peer-minihttp listening on http://{addr}/");
    server.wait();
}

fn args() -> (String, String) {
    let usage = "usage: peer-minihttp --addr 127.0.0.1:PORT --file PATH";
    let mut addr = None;
    let mut file = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--addr" => addr = it.next(),
            "--file" => file = it.next(),
            _ => {
                eprintln!("{usage}");
                std::process::exit(2);
            }
        }
    }
    match (addr, file) {
        (Some(a), Some(f)) => (a, f),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

/// The same validators as wirepost's `Validators::of_file` (src/http/conditional.rs).
fn load(path: &str) -> Page {
    let body = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let secs = meta
        .modified()
        .expect("mtime")
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let etag = format!("ETag: \"{secs:x}-{:x}\"", body.len());
    let last_modified = format!(
        "Last-Modified: {}",
        httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(secs))
    );
    Page {
        body: Box::leak(body.into_boxed_slice()),
        etag: Box::leak(etag.into_boxed_str()),
        last_modified: Box::leak(last_modified.into_boxed_str()),
    }
}
