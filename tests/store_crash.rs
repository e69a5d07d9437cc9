//! Crash safety: a write the server acknowledged survives `kill -9`.
//!
//! Concurrent clients register users and set session values as fast as they can; the
//! server is killed with SIGKILL in the middle of the burst and started again on the
//! same data directory. Every registration that got its 302, and every session value
//! whose 302 arrived, must be there after the restart. (Writes that got no answer may
//! or may not be there: both are correct.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn data_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "crash-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(data: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirepost"))
        .args(["--addr", "127.0.0.1:0", "--workers", "2", "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

/// One request on a fresh connection; the raw response, or None if the server died.
fn exchange(addr: SocketAddr, req: &[u8]) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(req).ok()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if let Some(end) = find(&out, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&out[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("Content-Length: ")
                                .and_then(|v| v.trim().parse().ok())
                        })
                        .unwrap_or(0);
                    if out.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            Err(_) => return None,
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(&out).into_owned())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn post(path: &str, body: &str, cookie: Option<&str>) -> Vec<u8> {
    let cookie = cookie
        .map(|c| format!("Cookie: sessionid={c}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{cookie}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn session_cookie(resp: &str) -> Option<String> {
    resp.lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: sessionid="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let data = data_dir();
    let (mut child, addr) = start(&data);
    let stop = Arc::new(AtomicBool::new(false));
    // (username) acknowledged; (session cookie, key, value) acknowledged.
    let users = Arc::new(Mutex::new(Vec::<String>::new()));
    let values = Arc::new(Mutex::new(Vec::<(String, String, u64)>::new()));
    let mut threads = Vec::new();
    for t in 0..8 {
        let (stop, users, values) = (stop.clone(), users.clone(), values.clone());
        threads.push(std::thread::spawn(move || {
            let mut cookie: Option<String> = None;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                if t < 2 {
                    // Registration: hashing is slow, so fewer of these.
                    let name = format!("u{t}x{i}");
                    match exchange(
                        addr,
                        &post(
                            "/user/register/",
                            &format!("username={name}&password=pw-long-enough-{i}"),
                            None,
                        ),
                    ) {
                        Some(r) if r.starts_with("HTTP/1.1 302") => {
                            users.lock().unwrap().push(name)
                        }
                        Some(_) => {}
                        None => break,
                    }
                } else {
                    let body = format!("action=set&key=k{t}&value={i}");
                    match exchange(addr, &post("/session/", &body, cookie.as_deref())) {
                        Some(r) if r.starts_with("HTTP/1.1 302") => {
                            if let Some(c) = session_cookie(&r) {
                                cookie = Some(c);
                            }
                            if let Some(c) = &cookie {
                                values.lock().unwrap().push((c.clone(), format!("k{t}"), i));
                            }
                        }
                        Some(r) => panic!("unexpected answer: {r}"),
                        None => break,
                    }
                }
            }
        }));
    }
    // Kill in the middle of the burst, once some of each kind have been acknowledged
    // (hashing makes registrations slow, more so on a busy machine).
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline
        && (users.lock().unwrap().len() < 3 || values.lock().unwrap().len() < 50)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let users = users.lock().unwrap().clone();
    let values = values.lock().unwrap().clone();
    assert!(
        !users.is_empty(),
        "no registration was acknowledged before the kill"
    );
    assert!(
        values.len() > 20,
        "too few session writes acknowledged: {}",
        values.len()
    );

    let (mut child, addr) = start(&data);
    // Every acknowledged user exists: registering the name again is a 409.
    for name in &users {
        let r = exchange(
            addr,
            &post(
                "/user/register/",
                &format!("username={name}&password=x-long-enough"),
                None,
            ),
        )
        .unwrap();
        assert!(
            r.starts_with("HTTP/1.1 409"),
            "user {name} lost after kill -9: {r}"
        );
    }
    // Every session holds at least the last value acknowledged for each key.
    let mut last: std::collections::HashMap<(String, String), u64> = Default::default();
    for (c, k, v) in values {
        let e = last.entry((c, k)).or_insert(0);
        *e = (*e).max(v);
    }
    for ((cookie, key), v) in last {
        let r = exchange(
            addr,
            format!(
                "GET /session/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\
                 Connection: close\r\nCookie: sessionid={cookie}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let body = &r[r.find("\r\n\r\n").unwrap() + 4..];
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        let got = json["data"][&key].as_u64();
        assert!(
            got.is_some_and(|g| g >= v),
            "session {cookie} key {key}: acknowledged {v}, found {got:?}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
