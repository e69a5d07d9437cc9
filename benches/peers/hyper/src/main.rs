//! A peer for benches/peers: the hello-world a hyper 1.x user would write, on ONE
//! thread (tokio's `current_thread` runtime), so that it is compared with
//! `wirepost --workers 1` and nginx's one worker.
//!
//!   peer-hyper --addr 127.0.0.1:PORT --file www/static/hello.html
//!
//! - `GET /plaintext` -> 200 `Hello, World!`, `Content-Type: text/plain`;
//! - `GET /static/hello.html` -> the file given with `--file`, read ONCE at start and
//!   served from memory, `Content-Type: text/html; charset=utf-8`, and the validators
//!   wirepost sends for it (`ETag: "<mtime hex>-<len hex>"`, `Last-Modified`,
//!   `Accept-Ranges: bytes`), as fixed strings computed at start;
//! - anything else -> 404.
//!
//! hyper writes `Date` itself (`auto_date_header`, on by default: it formats the date
//! once a second into a thread-local cache) and `Content-Length` from the body's exact
//! size. Connections: keep-alive (the default), `pipeline_flush(true)` (answers to a
//! batch of pipelined requests leave in one write), `TCP_NODELAY` as hyper's examples
//! set it.
//!
//! It prints `peer-hyper listening on http://ADDR/` once the socket is bound (what
//! benches/wrk/run.sh waits for).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The page, read once; every header value is built once and cloned per response
/// (a `HeaderValue` from a `&'static str` is cloned without copying).
struct Page {
    body: Bytes,
    etag: HeaderValue,
    last_modified: HeaderValue,
}

fn main() {
    let (addr, file) = args();
    let page: &'static Page = Box::leak(Box::new(load(&file)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(serve(addr, page)) {
        eprintln!("peer-hyper: {e}");
        std::process::exit(1);
    }
}

fn args() -> (SocketAddr, String) {
    let usage = "usage: peer-hyper --addr 127.0.0.1:PORT --file PATH";
    let mut addr = None;
    let mut file = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--addr" => {
                addr = it
                    .next()
                    .map(|s| s.parse().expect("--addr: not an address"))
            }
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
    let modified = meta.modified().expect("mtime");
    let secs = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let etag = format!("\"{secs:x}-{:x}\"", body.len());
    let last_modified = httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(secs));
    Page {
        body: Bytes::from(body),
        etag: HeaderValue::from_static(Box::leak(etag.into_boxed_str())),
        last_modified: HeaderValue::from_static(Box::leak(last_modified.into_boxed_str())),
    }
}

async fn serve(addr: SocketAddr, page: &'static Page) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("peer-hyper listening on http://{}/", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let service =
                service_fn(move |req| async move { Ok::<_, Infallible>(route(page, &req)) });
            // Errors are the client's (a reset, a bad request): hyper has answered
            // what it could; nothing to do but drop the connection.
            let _ = http1::Builder::new()
                .keep_alive(true)
                // A client that shuts down its sending side after its last request
                // (`nc -q1`) still gets every answer; off, hyper may drop the
                // connection on that EOF with requests unanswered. wrk never does it.
                .half_close(true)
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn route(page: &Page, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() == Method::GET {
        match req.uri().path() {
            "/plaintext" => {
                return Response::builder()
                    .header(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))
                    .body(Full::new(Bytes::from_static(b"Hello, World!")))
                    .expect("response");
            }
            "/static/hello.html" => {
                return Response::builder()
                    .header(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )
                    .header(header::ETAG, page.etag.clone())
                    .header(header::LAST_MODIFIED, page.last_modified.clone())
                    .header(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"))
                    .body(Full::new(page.body.clone()))
                    .expect("response");
            }
            _ => {}
        }
    }
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))
        .body(Full::new(Bytes::from_static(b"Not Found")))
        .expect("response")
}
