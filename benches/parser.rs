//! Head parser microbenchmark: wirepost's incremental parser beside httparse, on the
//! shared 544-byte browser request (`../shared/bench/browser_request.txt`, or a copy of
//! the same bytes kept in `benches/browser_request.txt` when that is absent).
//!
//! `cargo bench --bench parser` runs both parsers over the same bytes, interleaved in
//! rounds (A B A B), and prints the median ns per request and MB/s of each, and the
//! ratio. Two ways to feed ours: whole (the common case: a request arrives in one
//! read) and split in two at the middle (a head that crosses reads: the parser
//! resumes where it stopped instead of rescanning).
//!
//! `BENCH_CALLGRIND=CASE` runs only that case, `BENCH_ITERS` times, and nothing else
//! (no timing rounds), for `valgrind --tool=callgrind`: two runs with different
//! iteration counts, the difference of their totals divided by the difference of the
//! counts, is the instructions per request (deterministic, unlike the time on a shared
//! machine). `benches/callgrind_parser.sh` does that for every case. The cases: `ours`,
//! `ours-split`, `httparse` (the browser request), and `pipelined`, `pipelined-httparse`
//! (the 45-byte `GET /plaintext` of the pipelined benchmark; ours also splits its
//! `Host` and takes the path once, as the server does for each request).

use std::hint::black_box;
use std::time::Instant;
use wirepost::http::head::split_authority;
use wirepost::http::{HeadLimits, HeadParser};

/// The request of the pipelined benchmark (wrk sends 16 of these per write).
const PIPELINED: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

fn load_request() -> Vec<u8> {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/bench/browser_request.txt"
    );
    let local = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/browser_request.txt");
    std::fs::read(shared)
        .or_else(|_| std::fs::read(local))
        .expect("browser_request.txt")
}

fn time_per_iter(iters: u64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// One case, `iters` times, and nothing else (see the module docs).
#[inline(never)]
fn callgrind_case(case: &str, req: &[u8], iters: u64) {
    let mut ours = HeadParser::new(HeadLimits::default());
    let mid = req.len() / 2;
    for _ in 0..iters {
        match case {
            "ours" => {
                ours.reset();
                black_box(ours.parse(black_box(req)).unwrap());
                black_box(ours.head(req).headers.len());
            }
            "ours-split" => {
                ours.reset();
                black_box(ours.parse(black_box(&req[..mid])).unwrap());
                black_box(ours.parse(black_box(req)).unwrap());
            }
            "httparse" | "pipelined-httparse" => {
                let req = if case == "httparse" { req } else { PIPELINED };
                let mut hdrs = [httparse::EMPTY_HEADER; 64];
                let mut r = httparse::Request::new(&mut hdrs);
                let s = r.parse(black_box(req)).unwrap();
                black_box(s.is_complete());
                black_box(r.headers.len());
            }
            "pipelined" => {
                ours.reset();
                let req = black_box(PIPELINED);
                black_box(ours.parse(req).unwrap());
                let head = ours.head(req);
                // framing finds `Host` in its own pass over the fields.
                black_box(split_authority(head.headers[0].value.of(req)));
                black_box(head.path());
            }
            _ => panic!("BENCH_CALLGRIND: unknown case {case}"),
        }
    }
}

fn main() {
    let req = load_request();
    let iters: u64 = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    if let Ok(case) = std::env::var("BENCH_CALLGRIND") {
        callgrind_case(&case, &req, iters);
        return;
    }
    let rounds = 7;
    let mut ours = HeadParser::new(HeadLimits::default());
    let mut ours_whole = Vec::new();
    let mut ours_split = Vec::new();
    let mut theirs = Vec::new();
    let mid = req.len() / 2;

    // Check both parse it, and agree on the field count.
    ours.reset();
    let len = ours.parse(&req).unwrap().expect("complete");
    assert_eq!(len, req.len());
    let n_ours = ours.head(&req).headers.len();
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Request::new(&mut hdrs);
    assert!(r.parse(&req).unwrap().is_complete());
    assert_eq!(n_ours, r.headers.len());

    for _ in 0..rounds {
        ours_whole.push(time_per_iter(iters, || {
            ours.reset();
            let n = ours.parse(black_box(&req)).unwrap();
            black_box(n);
            black_box(ours.head(&req).headers.len());
        }));
        theirs.push(time_per_iter(iters, || {
            let mut hdrs = [httparse::EMPTY_HEADER; 64];
            let mut r = httparse::Request::new(&mut hdrs);
            let s = r.parse(black_box(&req)).unwrap();
            black_box(s.is_complete());
            black_box(r.headers.len());
        }));
        ours_split.push(time_per_iter(iters, || {
            ours.reset();
            let a = ours.parse(black_box(&req[..mid])).unwrap();
            black_box(a);
            let b = ours.parse(black_box(&req)).unwrap();
            black_box(b);
        }));
    }
    let (w, s, h) = (
        median(&mut ours_whole),
        median(&mut ours_split),
        median(&mut theirs),
    );
    let mbps = |ns: f64| req.len() as f64 / ns * 1e9 / 1e6;
    println!(
        "request: {} bytes, {} header fields; {} rounds x {} iterations, medians",
        req.len(),
        n_ours,
        rounds,
        iters
    );
    println!("{:<28} {:>10} {:>10}", "parser", "ns/req", "MB/s");
    println!("{:<28} {:>10.1} {:>10.0}", "httparse (whole)", h, mbps(h));
    println!("{:<28} {:>10.1} {:>10.0}", "wirepost (whole)", w, mbps(w));
    println!(
        "{:<28} {:>10.1} {:>10.0}",
        "wirepost (split in two)",
        s,
        mbps(s)
    );
    println!("ratio wirepost/httparse time (whole): {:.2}", w / h);
}
