//! The steady state of `/plaintext` on a keep-alive connection (one request at a time,
//! then 16 pipelined in one write) allocates nothing on
//! the heap: the input and output buffers, the header list and the timer entry are all
//! reused. Checked with a counting global allocator around 2,000 requests after a
//! warm-up; the only other thread in this test process is the server's one worker, and
//! the client side below uses only stack buffers.
//!
//! The same test then counts the allocations of a `GET /static/hello.html` served
//! from the worker's memory cache (docs/performance.md, "Static files from memory").

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const REQUEST: &[u8] =
    b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n";

/// Send `n` requests one at a time and read each response (whose length is `len`).
fn round_trips(stream: &mut TcpStream, n: usize, len: usize) {
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        stream.write_all(REQUEST).unwrap();
        let mut got = 0;
        while got < len {
            let k = stream.read(&mut buf[got..len]).unwrap();
            assert!(k > 0, "server closed the connection");
            got += k;
        }
        assert!(buf[..len].ends_with(b"\r\n\r\nHello, World!"));
    }
}

#[test]
fn plaintext_keep_alive_allocates_nothing_per_request() {
    let mut config = wirepost::config::Config {
        addr: "127.0.0.1:0".into(),
        workers: 1,
        ..Default::default()
    };
    config.www = concat!(env!("CARGO_MANIFEST_DIR"), "/www").into();
    let server = wirepost::server::Server::bind(config).unwrap();
    let addr = server.local_addr().unwrap();
    std::thread::spawn(move || server.run(None));

    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    // Learn the response length from the first response (Date has a fixed width).
    stream.write_all(REQUEST).unwrap();
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    while !first.ends_with(b"Hello, World!") {
        let k = stream.read(&mut buf).unwrap();
        assert!(k > 0);
        first.extend_from_slice(&buf[..k]);
    }
    let len = first.len();
    // Warm up: buffers reach their steady size.
    round_trips(&mut stream, 200, len);

    let before = ALLOCS.load(Ordering::SeqCst);
    round_trips(&mut stream, 2000, len);
    let after = ALLOCS.load(Ordering::SeqCst);
    // A handful is tolerated for once-a-second work that may fall in the window;
    // one allocation per request would be 2000.
    assert!(
        after - before < 20,
        "{} heap allocations during 2000 keep-alive requests",
        after - before
    );

    // Pipelined: 16 requests in one write, their 16 answers read back. The buffers
    // a connection takes from its worker's pool and gives back are reused too.
    const DEPTH: usize = 16;
    let batch = REQUEST.repeat(DEPTH);
    let mut answers = vec![0u8; DEPTH * len];
    let mut pipelined = |rounds: usize| {
        for _ in 0..rounds {
            stream.write_all(&batch).unwrap();
            let mut got = 0;
            while got < answers.len() {
                let k = stream.read(&mut answers[got..]).unwrap();
                assert!(k > 0, "server closed the connection");
                got += k;
            }
            assert!(answers.ends_with(b"\r\n\r\nHello, World!"));
        }
    };
    pipelined(20);
    let before = ALLOCS.load(Ordering::SeqCst);
    pipelined(200);
    let after = ALLOCS.load(Ordering::SeqCst);
    assert!(
        after - before < 20,
        "{} heap allocations during 200 batches of {DEPTH} pipelined requests",
        after - before
    );

    static_hit_allocations(addr);
}

const STATIC_REQUEST: &[u8] =
    b"GET /static/hello.html HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n";

/// A cached `/static/hello.html` on a keep-alive connection: counted over 2,000
/// requests, all within one revalidation window or spanning a few (one check a second).
fn static_hit_allocations(addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream.write_all(STATIC_REQUEST).unwrap();
    let mut first = Vec::new();
    let mut buf = [0u8; 8192];
    let len = loop {
        let k = stream.read(&mut buf).unwrap();
        assert!(k > 0);
        first.extend_from_slice(&buf[..k]);
        if let Some(end) = first.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&first[..end])
                .unwrap()
                .to_ascii_lowercase();
            assert!(head.starts_with("http/1.1 200"), "{head}");
            let cl = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .unwrap();
            let total = end + 4 + cl.trim().parse::<usize>().unwrap();
            if first.len() >= total {
                assert_eq!(first.len(), total);
                break total;
            }
        }
    };
    assert!(len <= buf.len());
    let trips = |stream: &mut TcpStream, buf: &mut [u8], n: usize| {
        for _ in 0..n {
            stream.write_all(STATIC_REQUEST).unwrap();
            let mut got = 0;
            while got < len {
                let k = stream.read(&mut buf[got..len]).unwrap();
                assert!(k > 0, "server closed the connection");
                got += k;
            }
            assert!(buf[..len].ends_with(b"</html>\n"));
        }
    };
    trips(&mut stream, &mut buf, 200);
    let before = ALLOCS.load(Ordering::SeqCst);
    trips(&mut stream, &mut buf, 2000);
    let after = ALLOCS.load(Ordering::SeqCst);
    let per_request = (after - before) as f64 / 2000.0;
    eprintln!("cached static hit: {per_request:.3} heap allocations per request");
    // None per hit (11 before the cache: the path, the validators' strings, the
    // header list). A few are tolerated for the once-a-second revalidation (a path
    // walk, a file opened) that may fall in the window; one per request is 2000.
    assert!(
        after - before < 40,
        "{} heap allocations during 2000 cached static requests",
        after - before
    );
}
