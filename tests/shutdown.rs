//! Stopping: SIGTERM (or Ctrl-C's SIGINT) drains the server. It stops accepting,
//! closes idle keep-alive connections at once, lets requests in flight finish (their
//! responses say `Connection: close`) until `--drain-timeout`, flushes storage and
//! exits 0. A second signal exits at once.

mod support;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Server, get};

/// Connecting fails with "connection refused" within `within`: the listener is gone.
fn assert_refuses_connections(server: &Server, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        match TcpStream::connect_timeout(&server.addr, Duration::from_millis(500)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return,
            // The handshake met the listener as it closed (seen once in CI): not
            // accepted either; the next attempt must be refused.
            Err(e) if e.kind() == ErrorKind::ConnectionReset && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("connect failed, but not refused: {e}"),
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(_) => panic!("still accepting connections {within:?} after the signal"),
        }
    }
}

#[test]
fn sigterm_closes_idle_connections_finishes_requests_in_flight_and_exits_0() {
    let mut server = Server::start(&["--workers", "2", "--drain-timeout", "10"]);
    let mut idle = server.connect();
    idle.request(&get("/plaintext")).assert_status(200);
    // A request in flight: its head and half its body.
    let mut busy = server.connect();
    busy.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 7\r\n\r\na=1",
    );
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    server.signal("TERM");

    // The idle connection is closed at once, and nobody new gets in.
    idle.assert_closed();
    assert_refuses_connections(&server, Duration::from_secs(2));
    assert!(server.is_running(), "it waits for the request in flight");

    // The request in flight gets its whole answer, and then the connection closes.
    busy.send(b"&b=2");
    let resp = busy.read_response();
    resp.assert_status(200);
    assert_eq!(resp.json()["form"]["b"][0], "2", "{}", resp.body_str());
    assert!(
        resp.says_close(),
        "a draining server closes after each response"
    );
    busy.assert_closed();

    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("the server exits once nothing is in flight");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "it did not wait for the drain timeout: {:?}",
        signalled.elapsed()
    );
    let log = server.log();
    assert!(log.contains("SIGTERM: stopping"), "{log}");
    assert!(log.contains("storage flushed; stopped"), "{log}");
}

#[test]
fn a_request_still_unfinished_at_the_drain_timeout_is_cut_and_the_exit_is_still_0() {
    let mut server = Server::start(&["--workers", "1", "--drain-timeout", "1"]);
    let mut stuck = server.connect();
    stuck.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly some");
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("the server exits after the drain timeout");
    assert!(status.success(), "exit status {status:?}");
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "it gave the request its drain time: {took:?}"
    );
    stuck.assert_closed();
    let log = server.log();
    assert!(
        log.contains("drain timeout; closing 1 connections"),
        "{log}"
    );
}

#[test]
fn a_second_sigint_exits_at_once() {
    let mut server = Server::start(&["--workers", "1", "--drain-timeout", "60"]);
    let mut stuck = server.connect();
    stuck.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly some");
    std::thread::sleep(Duration::from_millis(200));
    server.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.is_running(), "the first Ctrl-C drains");
    server.signal("INT");
    let status = server
        .wait_exit(Duration::from_secs(3))
        .expect("the second Ctrl-C exits at once");
    assert_eq!(status.code(), Some(1));
    assert!(server.log().contains("SIGINT again: exiting now"));
}

#[test]
fn sigterm_while_logins_and_session_writes_are_pending_answers_them_all() {
    // Logins wait for a hasher thread and then for a durable session write: the drain
    // must wait for both, and every client must get its 302.
    let mut server = Server::start(&["--workers", "1", "--drain-timeout", "20"]);
    let form = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    server
        .request(&form(
            "/user/register/",
            "username=ada&password=pw-long-enough",
        ))
        .assert_status(302);
    let mut clients: Vec<_> = (0..9)
        .map(|i| {
            let mut c = server.connect();
            if i % 3 != 2 {
                c.send(&form(
                    "/user/login/",
                    "username=ada&password=pw-long-enough",
                ));
            } else {
                c.send(&form("/session/", &format!("action=set&key=k&value={i}")));
            }
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(30));
    server.signal("TERM");
    let mut closed = 0;
    for c in &mut clients {
        let resp = c.read_response();
        resp.assert_status(302);
        closed += usize::from(resp.says_close());
    }
    // Six Argon2 hashes take longer than the 30 ms before the signal: some answers
    // came during the drain, and those close their connection.
    assert!(closed > 0, "no answer came during the drain");
    let status = server.wait_exit(Duration::from_secs(10)).expect("exits");
    assert!(status.success(), "exit status {status:?}");
}
