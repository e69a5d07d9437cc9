//! End-to-end: the real `wirepost` binary driven by headless Chromium, clicking through
//! the pages as a person would (`tests/e2e/flow.mjs`, Playwright's `playwright-core`
//! pointed at Debian's Chromium; no browser is ever downloaded).
//!
//! This test starts the server on a free port with a data directory of its own, runs
//! `node tests/e2e/flow.mjs` with the base URL, and in the middle of the flow restarts
//! the server on the same port and the same data directory (the script prints
//! `@@RESTART` and waits for `@@RESTARTED` on its stdin), so that the cart is shown to
//! survive a restart. Then a 390 px pass (a phone) over every HTML page, with a long
//! cookie, a long session value and a long upload name shown, checks
//! `document.documentElement.scrollWidth <= window.innerWidth` on each. Screenshots
//! go to `target/e2e/`, one per page visited (`NN-390px-*.png` for the phone pass).
//!
//! Needs Chromium (`apt-get install chromium`, or `WIREPOST_E2E_CHROMIUM=/path`),
//! Node.js and `npm ci --prefix tests/e2e`; `scripts/test` installs them. If one is
//! missing, the test fails and says how to install it: it never skips silently. With
//! `WIREPOST_NO_E2E=1` it is not run and prints `NOT RUN` (no `ok`): this file has its
//! own `main` (`harness = false` in Cargo.toml).

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{repo_root, temp_dir};

/// How long the server may take to print its URL.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// The whole browser flow (a run takes about 15 s; the first Chromium start is slower).
const FLOW_TIMEOUT: Duration = Duration::from_secs(240);

/// A `wirepost` process whose data directory outlives it.
struct WirePost {
    child: Child,
    addr: SocketAddr,
}

impl WirePost {
    /// Start on `addr` (port 0: any free port) with `data`; stderr appends to `log`.
    fn start(addr: &str, data: &Path, log: &Path) -> WirePost {
        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open server.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirepost"));
        cmd.args(["--addr", addr, "--workers", "2"])
            .arg("--www")
            .arg(repo_root().join("www"))
            .arg("--data")
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("WIREPOST_") {
                cmd.env_remove(key);
            }
        }
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        let mut child = cmd.spawn().expect("spawn the wirepost binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            // Keep draining after the URL line, so the server never blocks on a pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut seen = String::new();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if let Some(addr) = listen_addr(&line) {
                        return WirePost { child, addr };
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!(
                        "wirepost --addr {addr} printed no URL line ({e:?}; exit {status:?})\n\
                         stdout: {seen}\nstderr (tail):\n{}",
                        tail(&fs::read_to_string(log).unwrap_or_default(), 30)
                    );
                }
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WirePost {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The address in `wirepost listening on http://127.0.0.1:40123/ (2 workers)`.
fn listen_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("http://")? + "http://".len()..];
    let end = rest.find(['/', ' ']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Debian's Chromium, or the one `WIREPOST_E2E_CHROMIUM` names; else fail with a hint.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("WIREPOST_E2E_CHROMIUM") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "WIREPOST_E2E_CHROMIUM={} is not a file",
            p.display()
        );
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the end-to-end test needs Chromium and did not find it (looked for chromium and \
             chromium-browser on PATH).\nInstall it: `apt-get install chromium` (Debian), or run \
             `scripts/test`, which installs it; or set WIREPOST_E2E_CHROMIUM=/path/to/chrome."
        )
    })
}

/// `node`, and `tests/e2e/node_modules` installed; else fail with a hint.
fn node_ready(e2e_dir: &Path) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let node = std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the end-to-end test needs Node.js (18 or later) and did not find `node` on PATH.\n\
                 Install it: `apt-get install nodejs npm` (Debian), then `npm ci --prefix tests/e2e`."
            )
        });
    assert!(
        e2e_dir
            .join("node_modules/playwright-core/package.json")
            .is_file(),
        "the end-to-end test needs playwright-core in tests/e2e/node_modules.\n\
         Install it: `npm ci --prefix tests/e2e` (scripts/test does this; it downloads no browser)."
    );
    node
}

/// What the node script's stdout and stderr say, line by line.
enum Out {
    Stdout(String),
    Stderr(String),
}

/// `WIREPOST_NO_E2E=1` (`scripts/test` honours it too): the test is not run, and says
/// so; without it, the flow runs and any failure is a panic (exit status 101).
fn main() {
    if std::env::var_os("WIREPOST_NO_E2E").is_some_and(|v| v == "1") {
        println!(
            "\ntests/e2e.rs: NOT RUN (WIREPOST_NO_E2E=1): the browser flow was skipped, \
             nothing was checked in Chromium\n"
        );
        return;
    }
    println!("\nrunning 1 test (tests/e2e.rs, headless Chromium)");
    let started = Instant::now();
    browser_flow();
    // The same summary as libtest's, which CI reads.
    println!(
        "test browser_flow ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; \
         0 measured; 0 filtered out; finished in {:.2}s\n",
        started.elapsed().as_secs_f64()
    );
}

fn browser_flow() {
    let root = repo_root();
    let e2e_dir = root.join("tests/e2e");
    let chromium = chromium();
    let node = node_ready(&e2e_dir);

    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let shots = target.join("e2e");
    let _ = fs::remove_dir_all(&shots);
    fs::create_dir_all(&shots).expect("create target/e2e");

    let dir = temp_dir("e2e");
    let data = dir.join("data");
    fs::create_dir_all(&data).expect("create data dir");
    let log = dir.join("server.log");
    let mut server = WirePost::start("127.0.0.1:0", &data, &log);
    let addr = server.addr;
    let base = format!("http://{addr}");

    let mut child = Command::new(&node)
        .arg(e2e_dir.join("flow.mjs"))
        .current_dir(&e2e_dir)
        .env("E2E_BASE_URL", &base)
        .env("E2E_SHOTS", &shots)
        .env("E2E_CHROMIUM", &chromium)
        .env("E2E_TMP", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node");
    let mut stdin: ChildStdin = child.stdin.take().expect("piped stdin");
    let (tx, rx) = mpsc::channel::<Out>();
    let out = child.stdout.take().expect("piped stdout");
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx2.send(Out::Stdout(line));
        }
    });
    let err = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(Out::Stderr(line));
        }
    });

    let deadline = Instant::now() + FLOW_TIMEOUT;
    let mut transcript = String::new();
    let mut restarts = 0;
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Out::Stdout(line)) if line == "@@RESTART" => {
                server.stop();
                if let Ok(mut f) = fs::OpenOptions::new().append(true).open(&log) {
                    let _ = writeln!(f, "--- e2e: server killed; starting it again on {addr} ---");
                }
                server = WirePost::start(&addr.to_string(), &data, &log);
                assert_eq!(
                    server.addr, addr,
                    "the restarted server is on another address"
                );
                restarts += 1;
                transcript.push_str(&format!("  (server restarted on {addr}, same data dir)\n"));
                // The script may have died meanwhile: its output then says why.
                let _ = writeln!(stdin, "@@RESTARTED").and_then(|()| stdin.flush());
            }
            Ok(Out::Stdout(line) | Out::Stderr(line)) => {
                transcript.push_str(&line);
                transcript.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = child.kill();
                break;
            }
        }
    }
    drop(stdin);
    let status = child.wait().expect("wait for node");
    drop(server);

    let server_log = fs::read_to_string(&log).unwrap_or_default();
    let success = status.success() && !timed_out;
    if success {
        // Shown with `cargo test --test e2e -- --nocapture`.
        print!("{transcript}");
        assert_eq!(
            restarts, 1,
            "the flow should restart the server once:\n{transcript}"
        );
        let _ = fs::remove_dir_all(&dir);
        return;
    }
    panic!(
        "the browser flow failed ({}):\n{transcript}\n\
         --- wirepost stderr (tail of {}) ---\n{}\n\
         screenshots: {}",
        if timed_out {
            format!("no end within {FLOW_TIMEOUT:?}")
        } else {
            format!("node exited with {status}")
        },
        log.display(),
        tail(&server_log, 40),
        shots.display()
    );
}
