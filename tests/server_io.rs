//! The I/O layer seen from outside: panics, the connection cap, backpressure under a
//! pipelined flood, lingering close, `--trace`, the access log, and flag errors.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Server, get};

#[test]
fn a_panicking_handler_gets_500_and_the_worker_carries_on() {
    let server = Server::start(&["--workers", "1"]);
    let mut before = server.connect();
    before.request(&get("/plaintext")).assert_status(200);

    let mut c = server.connect();
    let resp = c.request(&get("/__debug/panic"));
    resp.assert_status(500);
    assert!(
        resp.says_close(),
        "a 500 after a panic closes the connection"
    );
    c.assert_closed();

    // The same once a body was read: the handler runs after the head's turn.
    let mut c = server.connect();
    let post = b"POST /__debug/panic HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    let resp = c.request(post);
    resp.assert_status(500);
    assert!(resp.says_close(), "{resp:?}");
    c.assert_closed();

    // The one worker is alive: a connection opened before the panic, and a new one.
    before.request(&get("/plaintext")).assert_status(200);
    server.request(&get("/plaintext")).assert_status(200);
    assert!(
        server.log().contains("handler panicked"),
        "{}",
        server.log()
    );
}

#[test]
fn connections_past_the_cap_get_503_and_the_slot_frees_on_close() {
    let server = Server::start(&["--workers", "1", "--max-connections", "3"]);
    let mut held: Vec<_> = (0..3).map(|_| server.connect()).collect();
    for c in &mut held {
        c.request(&get("/plaintext")).assert_status(200);
    }
    let mut extra = server.connect();
    let rest = extra.read_to_eof();
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{text}"
    );
    assert!(text.contains("Connection: close\r\n"), "{text}");
    // Framed like every other response (SPEC "Protocol": every response has Date).
    assert!(text.contains("\r\nDate: "), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", body.len())),
        "{text}"
    );

    // Free one slot: once the server has seen the close, a new client is served.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = TcpStream::connect(server.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = c.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut got = [0u8; 15];
        let _ = c.read_exact(&mut got);
        if &got == b"HTTP/1.1 200 OK" {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed: {got:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A client that pipelines thousands of requests and does not read the answers
/// stalls only itself: the server stops reading from it once its output backs up,
/// serves others meanwhile, and answers every request in order once it reads.
#[test]
fn pipelined_flood_without_reading_does_not_stall_others() {
    let server = Server::start(&["--workers", "1"]);
    const N: usize = 10_000;
    let mut flood = Vec::new();
    for i in 0..N {
        flood.extend_from_slice(format!("GET /echo?n={i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    let addr = server.addr;
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&flood));

    // Let the flood fill the pipes, then check another client is answered promptly.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    for _ in 0..20 {
        server.request(&get("/plaintext")).assert_status(200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a normal client waited {:?} behind the flood",
        started.elapsed()
    );

    // Now read the flood's answers: all of them, in order.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut data = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut seen = 0;
    let mut search_from = 0;
    while seen < N {
        let n = stream
            .read(&mut buf)
            .expect("reading the flood's responses");
        assert!(n > 0, "server closed after {seen} responses");
        data.extend_from_slice(&buf[..n]);
        // Count target lines `"target": "/echo?n=K"` in order.
        while let Some(pos) = find(&data[search_from..], b"\"target\": \"/echo?n=") {
            let at = search_from + pos + 19;
            let end = at + data[at..].iter().position(|&b| b == b'"').unwrap_or(0);
            if end == at {
                break; // the number is not all here yet
            }
            let k: usize = std::str::from_utf8(&data[at..end])
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(k, seen, "responses out of order");
            seen += 1;
            search_from = end;
        }
        // Keep memory small: drop what has been counted.
        data.drain(..search_from);
        search_from = 0;
    }
    sender.join().unwrap().unwrap();
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// After an error the server stops reading requests but keeps draining what the client
/// sends for a while (lingering close), so the client reads the 400 instead of a reset.
#[test]
fn error_response_survives_a_client_that_keeps_sending() {
    let server = Server::start(&[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut junk = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec();
    junk.extend(std::iter::repeat_n(b'x', 256 * 1024));
    let mut w = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = w.write_all(&junk);
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {} bytes: {e}", got.len()),
        }
    }
    sender.join().unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
    assert!(text.contains("line 3: header line has no colon"), "{text}");
}

#[test]
fn trace_shows_bytes_in_and_out_with_line_ends_visible() {
    let server = Server::start(&["--trace"]);
    server.request(&get("/plaintext")).assert_status(200);
    std::thread::sleep(Duration::from_millis(100));
    let log = server.log();
    assert!(log.contains(" <] GET /plaintext HTTP/1.1\\r\\n\n"), "{log}");
    assert!(log.contains(" <] Host: x\\r\\n\n"), "{log}");
    assert!(log.contains(" >] HTTP/1.1 200 OK\\r\\n\n"), "{log}");
    assert!(log.contains(" >] Hello, World!\n"), "{log}");
}

#[test]
fn one_access_log_line_per_request_at_info_and_none_at_warn() {
    let server = Server::start(&[]);
    server.request(&get("/plaintext")).assert_status(200);
    server.request(&get("/nope")).assert_status(404);
    std::thread::sleep(Duration::from_millis(100));
    let log = server.log();
    assert_eq!(
        log.matches("\"GET /plaintext HTTP/1.1\" 200 13 ").count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.matches("\"GET /nope HTTP/1.1\" 404 ").count(),
        1,
        "{log}"
    );

    // At warn: no line per request.
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirepost"))
        .args(["--addr", "127.0.0.1:0", "--workers", "1"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") && stdout.read(&mut byte).unwrap() == 1 {
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    assert!(resp.starts_with(b"HTTP/1.1 200 OK"));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("GET /plaintext"), "at warn: {err}");
}

#[test]
fn bad_flags_exit_with_status_2_and_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_wirepost"))
        .args(["--workers", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--workers"));
    let out = Command::new(env!("CARGO_BIN_EXE_wirepost"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--max-body"));
}

/// CPU time (user + system, in clock ticks) the process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Out of file descriptors (`ulimit -n`), accept fails with EMFILE while the listener
/// stays readable: the worker must pause accepting, not spin on it, and serve again
/// once descriptors are free.
#[test]
fn out_of_file_descriptors_accept_backs_off_instead_of_spinning() {
    let mut server = Server::start(&["--workers", "1"]);
    let pid = server.pid();
    // Once a request is answered, every worker has its poll and waker descriptors.
    server.request(&get("/plaintext")).assert_status(200);
    std::thread::sleep(Duration::from_millis(200));
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let limit = open_fds + 3;
    let status = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .expect("run prlimit(1) (util-linux)");
    assert!(status.success(), "prlimit failed");

    // Three connections take the last descriptors; the rest wait in the backlog.
    let mut held: Vec<_> = (0..3).map(|_| server.connect()).collect();
    for c in &mut held {
        c.request(&get("/plaintext")).assert_status(200);
    }
    let mut waiting: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(pid);
    let ticks_per_s = 100; // USER_HZ on Linux
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    assert!(
        used * 100 < ticks_per_s * 20,
        "the server used {used} ticks of CPU in 1 s while out of descriptors: spinning"
    );
    assert!(server.log().contains("pausing accepts"), "{}", server.log());
    assert!(server.is_running());

    // Descriptors come back: every waiting client is served (one at a time if need
    // be: each asks to close after its answer).
    held.clear();
    for c in &mut waiting {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200 OK"), "{answer:?}");
    }
    let log = server.log();
    // Paused for over a second (10+ pauses of 100 ms): one warning per shortage.
    let warnings = log.matches("pausing accepts").count();
    assert!(
        (1..=3).contains(&warnings),
        "one warning per shortage, not one per pause: {log}"
    );
    assert!(log.contains("accepting again"), "{log}");
}

/// The server's listener has a backlog of 1024 (std's `TcpListener::bind` gives 128):
/// before any worker accepts, the kernel completes the handshake of ~1000 connections
/// opened at once, where with 128 only 129 complete and the rest stay in SYN-SENT.
#[test]
fn a_burst_of_a_thousand_connections_completes_before_any_accept() {
    // `[::1]` only where the loopback has IPv6 (some containers disable it).
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ipv6 {
        eprintln!("no IPv6 loopback here: only 127.0.0.1 is tested");
    }
    for addr in ["127.0.0.1:0", "[::1]:0"] {
        if addr.starts_with('[') && !ipv6 {
            continue;
        }
        let mut config = wirepost::config::Config {
            addr: addr.into(),
            workers: 1,
            ..Default::default()
        };
        config.www = concat!(env!("CARGO_MANIFEST_DIR"), "/www").into();
        config.data = support::temp_dir("backlog").join("data");
        // Bound, not run: nothing accepts.
        let server = wirepost::server::Server::bind(config).unwrap();
        let addr = server.local_addr().unwrap();
        let mut pending: Vec<mio::net::TcpStream> = (0..1000)
            .map(|_| mio::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut done = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while done < 900 && Instant::now() < deadline {
            pending.retain(|s| s.peer_addr().is_err());
            done = 1000 - pending.len();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(done >= 900, "{addr}: {done} of 1000 completed");
    }
}

#[test]
fn trace_ids_are_unique_across_workers() {
    // Each worker used to number its connections from its own index by 1s, so two
    // workers gave out the same numbers.
    let server = Server::start(&["--workers", "2", "--trace"]);
    // Connections opened together, so that both workers are likely to take some.
    let mut clients: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32).map(|_| s.spawn(|| server.connect())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for c in &mut clients {
        c.request(&get("/plaintext")).assert_status(200);
    }
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    // `<time> [127.0.0.1:PORT #ID <] ...`: one id per client port, and no id for two
    // ports.
    let mut ids = std::collections::HashMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains(" [127.0.0.1:") && l.contains(" <] "))
    {
        let inner = &line[line.find(" [").unwrap() + 2..line.find(" <] ").unwrap()];
        let (peer, id) = inner.split_once(" #").unwrap();
        ids.insert(peer.to_string(), id.to_string());
    }
    assert_eq!(ids.len(), 32, "{log}");
    let distinct: std::collections::HashSet<_> = ids.values().collect();
    assert_eq!(distinct.len(), 32, "ids repeat: {ids:?}");
}

#[test]
fn the_access_log_names_the_request_line_of_a_refused_request() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.send(b"GET /refused-here HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n");
    c.read_response().assert_status(400);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("\"GET /refused-here HTTP/1.1\" 400")),
        "{log}"
    );
}
