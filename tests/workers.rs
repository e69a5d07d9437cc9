//! Workers share the load: connections opened at once spread evenly over
//! `--workers N` (each worker within ±25% of its share), counted per worker by
//! `GET /__stats` (`"workers": [{"accepted": N, "open": M}, ...]`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::{Client, Server, get};

/// Open `n` connections at once (all connected before any request is sent), then send
/// a request on each and read its answer, keeping every one open. Returns them.
fn burst(server: &Server, n: usize) -> Vec<Client> {
    let mut clients: Vec<Client> = (0..n).map(|_| server.connect()).collect();
    for c in &mut clients {
        c.send(&get("/plaintext"));
    }
    for c in &mut clients {
        c.read_response().assert_status(200);
    }
    clients
}

/// `(accepted, open)` of each worker, in index order, from `/__stats` on a new
/// connection (which is itself counted: accepted and open on the worker serving it).
fn per_worker(server: &Server) -> Vec<(u64, u64)> {
    let resp = server.request(&get("/__stats"));
    resp.assert_status(200);
    let json = resp.json();
    let workers = json["workers"]
        .as_array()
        .unwrap_or_else(|| panic!("no \"workers\" array in {json}"));
    workers
        .iter()
        .map(|w| {
            let field = |k: &str| {
                w[k].as_u64()
                    .unwrap_or_else(|| panic!("no {k:?} in {w} (of {json})"))
            };
            (field("accepted"), field("open"))
        })
        .collect()
}

/// With `workers` workers, a burst of 64 gives each worker between `low` and `high` of
/// them. The `/__stats` connection is counted too, on one worker: the burst's share is
/// within bounds if it is so with that one taken off some worker's count.
fn spreads(workers: usize, low: u64, high: u64) {
    let server = Server::start(&["--workers", &workers.to_string()]);
    let clients = burst(&server, 64);
    let counts = per_worker(&server);
    assert_eq!(counts.len(), workers, "one entry per worker: {counts:?}");
    let accepted: u64 = counts.iter().map(|c| c.0).sum();
    let open: u64 = counts.iter().map(|c| c.1).sum();
    // 64 of the burst plus the stats connection, all still open.
    assert_eq!(accepted, 65, "{counts:?}");
    assert_eq!(open, 65, "{counts:?}");
    for (i, &(a, o)) in counts.iter().enumerate() {
        assert_eq!(a, o, "worker {i}: none closed yet: {counts:?}");
    }
    let fits = (0..workers).any(|stats_on| {
        counts.iter().enumerate().all(|(i, &(a, _))| {
            let burst = if i == stats_on {
                a.saturating_sub(1)
            } else {
                a
            };
            (low..=high).contains(&burst)
        })
    });
    assert!(
        fits,
        "64 connections over {workers} workers: each should take {low}..={high} \
         (+1 on the worker serving /__stats); took {counts:?} (accepted, open)"
    );
    drop(clients);
}

#[test]
fn sixty_four_connections_spread_over_two_workers() {
    spreads(2, 24, 40);
}

#[test]
fn sixty_four_connections_spread_over_four_workers() {
    spreads(4, 12, 20);
}

#[test]
fn closed_connections_leave_the_open_counts() {
    let server = Server::start(&["--workers", "2"]);
    let clients = burst(&server, 8);
    drop(clients);
    // The server notices the closes in its own time: wait (generously) for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let counts = per_worker(&server);
        let accepted: u64 = counts.iter().map(|c| c.0).sum();
        let open: u64 = counts.iter().map(|c| c.1).sum();
        assert!(accepted >= 9, "{counts:?}");
        // Only the stats connection itself (and earlier stats connections not yet
        // seen closed) remain.
        if open == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the closes never showed: {counts:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn the_connection_cap_holds_across_workers_handing_connections_over() {
    // Counted open when accepted, not when the worker it is handed to takes it: a
    // burst accepted by one worker cannot overshoot `--max-connections` meanwhile.
    let server = Server::start(&["--workers", "2", "--max-connections", "8"]);
    let mut socks: Vec<TcpStream> = (0..12)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    let mut served = Vec::new();
    for (i, s) in socks.iter_mut().enumerate() {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // A refused one may be closed already: its write or read fails, or shows 503.
        let _ = s.write_all(&get("/plaintext"));
        let mut got = [0u8; 15];
        if s.read_exact(&mut got).is_ok() && &got == b"HTTP/1.1 200 OK" {
            served.push(i);
        }
    }
    assert_eq!(
        served.len(),
        8,
        "8 of 12 served, the rest refused: {served:?}"
    );
    // Free a slot; the stats connection is served once the server has seen the close.
    drop(socks.swap_remove(served[0]));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let accepted: u64 = loop {
        let mut c = TcpStream::connect(server.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = c.write_all(b"GET /__stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut text = Vec::new();
        let _ = c.read_to_end(&mut text);
        let text = String::from_utf8_lossy(&text);
        if let Some((_, body)) = text.split_once("\r\n\r\n")
            && text.starts_with("HTTP/1.1 200")
        {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            let workers = json["workers"].as_array().unwrap();
            break workers
                .iter()
                .map(|w| w["accepted"].as_u64().unwrap())
                .sum();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never served after a slot was freed: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // The 8 served and the stats connection; the refused ones were never taken.
    assert_eq!(accepted, 9);
}
