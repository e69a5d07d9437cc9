//! Fit and finish (issue 13): the startup lines, `--trace`, addresses from `Host`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::{Server, get, temp_dir};

/// Lines of a child's pipe, read on a thread (a pipe read cannot time out).
fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// At the default log level the URL is printed once, with the worker count, and then
/// how to stop; stderr does not repeat it.
#[test]
fn startup_prints_the_url_once_and_how_to_stop() {
    for (workers, label) in [("1", "(1 worker)"), ("2", "(2 workers)")] {
        let dir = temp_dir("startup");
        let mut child = Command::new(env!("CARGO_BIN_EXE_wirepost"))
            .args(["--addr", "127.0.0.1:0", "--workers", workers, "--data"])
            .arg(dir.join("data"))
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        let wait = Duration::from_secs(10);
        let first = out.recv_timeout(wait).expect("a first line on stdout");
        assert!(
            first.starts_with("wirepost listening on http://127.0.0.1:")
                && first.ends_with(&format!("/ {label}")),
            "{first:?}"
        );
        let second = out.recv_timeout(wait).expect("a second line on stdout");
        assert_eq!(second, "Ctrl-C to stop");
        child.kill().unwrap();
        child.wait().unwrap();
        let rest: Vec<String> = out.iter().chain(err.iter()).collect();
        assert!(
            !rest.iter().any(|l| l.contains("http://")),
            "the URL is repeated: {rest:?}"
        );
    }
}

/// The trace lines of connection `#id` (the part after its `[peer #id ...]`).
fn trace_of(log: &str, id: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(&format!(" #{id}]")) || l.contains(&format!(" #{id} ")))
        .map(str::to_string)
        .collect()
}

/// `2026-12-03T13:25:00.123Z ` at the start of a line.
fn has_stamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 25
        && b[..24].iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            23 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
        && b[24] == b' '
}

/// The id in each `open` line, in order.
fn opened(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.ends_with("] open"))
        .map(|l| {
            let open = l.rfind(" #").expect("an id");
            l[open + 2..l.len() - "] open".len()].to_string()
        })
        .collect()
}

fn wait_for(server: &Server, what: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = server.log();
        if log.contains(what) || std::time::Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn trace_shows_opens_closes_heads_and_cut_bodies() {
    let server = Server::start(&["--trace", "--idle-timeout", "1"]);

    // 1: a client that sends a request and closes its side.
    let mut c = server.connect();
    c.send(&get("/plaintext"));
    c.read_response().assert_status(200);
    c.shutdown_write();
    c.assert_closed();
    let log = wait_for(&server, "closed by the client (EOF)");

    // 2: a 5000-byte body, answered with `Connection: close`.
    let body = "x".repeat(5000);
    let mut c = server.connect();
    c.send(
        format!(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n\
             Content-Length: 5000\r\nConnection: close\r\n\r\n{body}"
        )
        .as_bytes(),
    );
    c.read_response().assert_status(200);
    c.assert_closed();
    let log2 = wait_for(&server, "after `Connection: close`");

    // 3: a client that says nothing until the idle timeout.
    let _quiet = server.connect();
    let log3 = wait_for(&server, "timeout");

    let ids = opened(&log3);
    assert!(ids.len() >= 3, "{log3}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "ids repeat: {ids:?}");

    let first = trace_of(&log, &ids[0]);
    assert!(first.iter().all(|l| has_stamp(l)), "{first:#?}");
    assert!(first[0].contains("[127.0.0.1:"), "{first:#?}");
    assert!(
        first
            .iter()
            .any(|l| l.ends_with(" <] GET /plaintext HTTP/1.1\\r\\n"))
    );
    assert!(
        first
            .iter()
            .any(|l| l.ends_with(" >] HTTP/1.1 200 OK\\r\\n"))
    );
    assert!(
        first
            .last()
            .unwrap()
            .ends_with("] closed by the client (EOF)"),
        "{first:#?}"
    );

    let second = trace_of(&log2, &ids[1]);
    let incoming: Vec<&String> = second.iter().filter(|l| l.contains(" <] ")).collect();
    // The head is whole, the body cut after 1 KiB, the rest counted.
    assert!(
        incoming
            .iter()
            .any(|l| l.ends_with("<] Connection: close\\r\\n"))
    );
    assert!(
        incoming
            .iter()
            .any(|l| l.ends_with(&format!("<] {}", "x".repeat(1024)))),
        "{incoming:#?}"
    );
    assert!(
        incoming.iter().any(|l| l.ends_with("<] … 3976 more bytes")),
        "{incoming:#?}"
    );
    assert!(!second.iter().any(|l| l.contains(&"x".repeat(1025))));
    assert!(
        second
            .last()
            .unwrap()
            .ends_with("] closed by the server after `Connection: close`"),
        "{second:#?}"
    );

    let third = trace_of(&log3, &ids[2]);
    assert!(
        third
            .last()
            .unwrap()
            .ends_with("] closed by the server: timeout"),
        "{third:#?}"
    );
}

fn get_with_host(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n\r\n").into_bytes()
}

/// Addresses on the pages come from the request's `Host`, escaped; an odd or missing
/// one gives the listen address.
#[test]
fn pages_build_addresses_from_the_host() {
    let server = Server::start(&[]);
    for path in ["/", "/products/", "/cookies/"] {
        let page = server
            .request(&get_with_host(path, "example.test:9"))
            .body_str();
        assert!(!page.contains("127.0.0.1:8000"), "{path}: {page}");
        assert!(page.contains("http://example.test:9/"), "{path}: {page}");
    }
    let index = server
        .request(&get_with_host("/", "example.test:9"))
        .body_str();
    assert!(index.contains("nc -C example.test 9"), "{index}");
    let json = server
        .request(b"GET / HTTP/1.1\r\nHost: example.test:9\r\nAccept: application/json\r\n\r\n");
    assert!(
        json.json()["about"]
            .as_str()
            .unwrap()
            .contains("nc -C example.test 9")
    );
    // No port: HTTP's 80.
    let index = server
        .request(&get_with_host("/", "example.test"))
        .body_str();
    assert!(index.contains("nc -C example.test 80"), "{index}");

    // Odd values are not echoed into the page: the listen address instead.
    let listen = format!("http://{}/", server.addr);
    // (The parser refuses most: `"<>` and spaces are a 400 before any page.)
    for odd in ["ex'ample:9", "a&b", "x_y", "exa(m)ple", "h:99999", "h:", ""] {
        let resp = server.request(&get_with_host("/", odd));
        resp.assert_status(200);
        let page = resp.body_str();
        assert!(page.contains(&listen), "Host {odd:?}: {page}");
        assert!(
            !page.contains(&format!("http://{odd}/")),
            "Host {odd:?}: {page}"
        );
    }
    let refused = server.request(&get_with_host("/", "a\"<b>"));
    assert!(!refused.body_str().contains("<b>"));
    // HTTP/1.0 may send no Host at all.
    let page = server
        .request(b"GET / HTTP/1.0\r\nAccept: text/html\r\n\r\n")
        .body_str();
    assert!(page.contains(&listen), "{page}");
}

/// The `sessionid=…` pair of a `Set-Cookie`.
fn session_cookie(r: &support::Response) -> String {
    let set = r.header("set-cookie").expect("a Set-Cookie");
    set.split(';').next().unwrap().to_string()
}

/// The session inspector shows the expiry as a date and how far it is; JSON keeps
/// unix seconds.
#[test]
fn session_expiry_is_shown_as_a_date() {
    let server = Server::start(&[]);
    let r = server.request(&support::form_post(
        "/session/",
        "action=set&key=a&value=1",
        &[],
    ));
    r.assert_status(302);
    let cookie = format!("Cookie: {}", session_cookie(&r));
    let json = server.request(
        format!(
            "GET /session/ HTTP/1.1\r\nHost: x\r\n{cookie}\r\nAccept: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    let expires = json.json()["expires"]
        .as_u64()
        .expect("unix seconds in JSON");
    let page = server
        .request(
            format!("GET /session/ HTTP/1.1\r\nHost: x\r\n{cookie}\r\nAccept: text/html\r\n\r\n")
                .as_bytes(),
        )
        .body_str();
    let date = wirepost_date(expires);
    assert!(
        page.contains(&format!("{date} UTC (in 14 days)")),
        "{date}: {page}"
    );

    // A browser session: "when the browser closes".
    let r = server.request(&support::form_post(
        "/session/",
        "action=expiry&seconds=0",
        &[&cookie],
    ));
    r.assert_status(302);
    let cookie = match r.header("set-cookie") {
        Some(_) => format!("Cookie: {}", session_cookie(&r)),
        None => cookie,
    };
    let page = server
        .request(
            format!("GET /session/ HTTP/1.1\r\nHost: x\r\n{cookie}\r\nAccept: text/html\r\n\r\n")
                .as_bytes(),
        )
        .body_str();
    assert!(page.contains("when the browser closes"), "{page}");
    assert!(!page.contains("unix time"), "{page}");
}

/// `2026-12-17 13:25:00` for unix seconds (the test's own civil-date arithmetic).
fn wirepost_date(unix: u64) -> String {
    let days = unix / 86_400;
    let rem = unix % 86_400;
    // Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
