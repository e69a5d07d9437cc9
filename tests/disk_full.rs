//! Disk full: the data directory on a 1 MiB tmpfs, filled up while the server runs.
//!
//! Before the disk fills, a session value, a cart and an upload are stored. With the
//! disk full, an upload and a session write must be refused with `507 Insufficient
//! Storage` (or `503` while the store pauses writes after the failure), the server's
//! log must say why, what was stored before must still read back intact, and no
//! partial upload or torn log line may be left. Once the filler is deleted, writes
//! must succeed again without a restart, and after a restart (`kill -9` and a new
//! process on the same directory) everything acknowledged is there.
//!
//! Mounting needs root (or CAP_SYS_ADMIN): tests run as root here and in CI. When the
//! mount is impossible the test fails, saying why; it never passes without running.

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Response, Server, temp_dir};

/// Size of the tmpfs: room for the store and a few uploads, quick to fill.
const TMPFS_SIZE: &str = "1m";

/// A tmpfs mounted for the test; unmounted (lazily, if still busy) on drop.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(tag: &str) -> Tmpfs {
        let path = temp_dir(tag).join("mnt");
        fs::create_dir_all(&path).expect("create the mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={TMPFS_SIZE},mode=0755"))
            .arg("tmpfs")
            .arg(&path)
            .output();
        match out {
            Ok(o) if o.status.success() => Tmpfs { path },
            Ok(o) => panic!(
                "the disk-full test needs a tiny tmpfs, and `mount -t tmpfs -o size={TMPFS_SIZE} \
                 tmpfs {}` failed ({}): {}\nRun the tests as root (or with CAP_SYS_ADMIN, e.g. a \
                 container started with --privileged); this test does not skip itself.",
                path.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!(
                "the disk-full test needs a tiny tmpfs, and running `mount` failed: {e}\n\
                 Install util-linux's mount and run the tests as root; this test does not \
                 skip itself."
            ),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
        let _ = fs::remove_dir(&self.path);
    }
}

fn form(path: &str, body: &str, cookie: Option<&str>) -> Vec<u8> {
    let cookie = cookie
        .map(|c| format!("Cookie: sessionid={c}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{cookie}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get_json(server: &Server, path: &str, cookie: &str) -> serde_json::Value {
    let r = server.request(
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\
             Cookie: sessionid={cookie}\r\n\r\n"
        )
        .as_bytes(),
    );
    r.assert_status(200);
    r.json()
}

fn upload(server: &Server, filename: &str, data: &[u8]) -> Response {
    let boundary = "diskfullboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"headimg\"; \
         filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = format!(
        "POST /upload/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    server.request(&req)
}

/// The stored name of a 201 upload.
fn stored_name(r: &Response) -> String {
    r.assert_status(201);
    r.json()["files"][0]["stored"]
        .as_str()
        .expect("a stored name")
        .to_string()
}

fn get_upload(server: &Server, name: &str) -> Vec<u8> {
    let r = server.request(format!("GET /uploads/{name} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    r.assert_status(200);
    r.body
}

fn cookie_of(r: &Response) -> String {
    r.header_all("set-cookie")
        .iter()
        .find_map(|c| c.strip_prefix("sessionid="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .unwrap_or_else(|| panic!("no sessionid cookie in {:?}", r.headers))
}

/// Bytes of `len` that differ from one file to the next.
fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Write zeros to `path` until the file system refuses; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 4096];
    let mut total = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => total += n as u64,
            Err(e) => {
                assert_eq!(
                    e.raw_os_error(),
                    Some(libc::ENOSPC),
                    "filling the disk: {e}"
                );
                break;
            }
        }
    }
    total
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every line of every log is whole (ends with `\n`): a failed append was cut back.
fn assert_logs_whole(store: &Path) {
    for name in names_in(store) {
        if name.starts_with("log-") {
            let bytes = fs::read(store.join(&name)).unwrap();
            assert!(
                bytes.is_empty() || bytes.ends_with(b"\n"),
                "{name} ends in a partial line: {:?}",
                String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(80)..])
            );
        }
    }
}

#[test]
fn disk_full_refuses_writes_keeps_what_was_stored_and_recovers() {
    // Declared first, so dropped last: every server is gone before the unmount.
    let tmpfs = Tmpfs::mount("disk-full");
    let data = tmpfs.path.join("data");
    let data_arg = data.to_str().unwrap();
    let uploads = data.join("uploads");
    let store = data.join("store");

    let server = Server::start(&["--data", data_arg, "--workers", "1"]);

    // Stored before the disk fills.
    let r = server.request(&form("/session/", "action=set&key=color&value=green", None));
    r.assert_status(302);
    let cookie = cookie_of(&r);
    server
        .request(&form("/cart/add/", "product=2&qty=3", Some(&cookie)))
        .assert_status(302);
    let first = bytes(1, 20_000);
    let first_name = stored_name(&upload(&server, "first.bin", &first));

    // Fill the disk.
    let filler = data.join("filler");
    let filled = fill(&filler);
    assert!(filled > 0, "the filler could not be written at all");

    // A session write too big for the room left in the log's last page: 507.
    let big = "x".repeat(6000);
    let r = server.request(&form(
        "/session/",
        &format!("action=set&key=big&value={big}"),
        Some(&cookie),
    ));
    r.assert_status(507)
        .assert_body_contains("disk is full")
        .assert_body_contains("nothing was saved");
    // Right after, the store pauses writes: 503 (with Retry-After), or 507 again.
    let r = server.request(&form("/cart/add/", "product=1", Some(&cookie)));
    assert!(
        matches!(r.status, 503 | 507),
        "a cart write on a full disk: {} {}",
        r.status,
        r.body_str()
    );
    if r.status == 503 {
        assert_eq!(r.header("retry-after"), Some("1"), "{:?}", r.headers);
    }
    // An upload: 507, and nothing of it left in the uploads directory.
    let r = upload(&server, "second.bin", &bytes(2, 50_000));
    r.assert_status(507).assert_body_contains("disk is full");
    let deadline = Instant::now() + Duration::from_secs(5);
    while names_in(&uploads).len() != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(names_in(&uploads), vec![first_name.clone()]);

    // The log says why.
    let log = server.log();
    assert!(
        log.contains("No space left on device"),
        "no ENOSPC in the log:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("store: writing to log-")),
        "no store error line:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("upload") && l.contains("disk full")),
        "no upload error line saying the disk is full:\n{log}"
    );

    // What was stored before reads back intact, and the failed writes are not there.
    let s = get_json(&server, "/session/", &cookie);
    assert_eq!(s["data"]["color"], "green", "{s}");
    assert!(
        s["data"].get("big").is_none(),
        "a refused write is visible: {s}"
    );
    assert_eq!(s["data"]["cart"], serde_json::json!({"2": 3}), "{s}");
    assert_eq!(get_upload(&server, &first_name), first);
    assert_logs_whole(&store);

    // Space comes back: writes succeed again, without a restart (after the store's
    // one-second pause).
    fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = server.request(&form(
            "/session/",
            &format!("action=set&key=big&value={big}"),
            Some(&cookie),
        ));
        if r.status == 302 {
            break;
        }
        assert_eq!(r.status, 503, "{}", r.body_str());
        assert!(Instant::now() < deadline, "writes still refused after 10 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
        .request(&form("/cart/add/", "product=1", Some(&cookie)))
        .assert_status(302);
    let third = bytes(3, 30_000);
    let third_name = stored_name(&upload(&server, "third.bin", &third));
    assert!(
        !server.log().contains("panic"),
        "a panic in the log:\n{}",
        server.log()
    );
    drop(server); // SIGKILL

    // After a restart everything acknowledged is there, and no torn tail was found.
    assert_logs_whole(&store);
    let server = Server::start(&["--data", data_arg, "--workers", "1"]);
    let s = get_json(&server, "/session/", &cookie);
    assert_eq!(s["data"]["color"], "green", "{s}");
    assert_eq!(s["data"]["big"], big.as_str());
    assert_eq!(
        s["data"]["cart"],
        serde_json::json!({"2": 3, "1": 1}),
        "{s}"
    );
    assert_eq!(get_upload(&server, &first_name), first);
    assert_eq!(get_upload(&server, &third_name), third);
    let mut want = vec![first_name, third_name];
    want.sort();
    assert_eq!(names_in(&uploads), want);
    let log = server.log();
    assert!(
        !log.contains("cut short") && !log.contains("panic"),
        "restart log:\n{log}"
    );
    drop(server);
}
