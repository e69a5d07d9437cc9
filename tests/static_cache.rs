//! `/static/` from memory (docs/performance.md, "Static files from memory"): small
//! files are kept in each worker's cache and re-checked at most once a second, so a
//! change on disk shows within the revalidation window, never later; large files go
//! out with `sendfile(2)`, byte for byte, whole or as a range. Against a real server.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use support::{Client, Server};

/// Longer than the cache's revalidation window (1 s), with a margin.
const PAST_WINDOW: Duration = Duration::from_millis(1300);

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// A copy of the repository's www, served by one worker (one cache).
fn server(tag: &str) -> (Server, PathBuf) {
    let root = support::temp_dir(tag);
    let www = root.join("www");
    support::copy_dir(&support::repo_root().join("www"), &www);
    std::fs::write(root.join("secret.txt"), "SECRET-MARKER").unwrap();
    let server = Server::start_with_www(&www, &["--workers", "1"]);
    (server, www.join("static"))
}

fn set_mtime(path: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

/// Asked again and again (so the cached entry is hot), then once after the window.
fn hot(c: &mut Client, path: &str, times: usize) -> support::Response {
    let mut last = None;
    for _ in 0..times {
        last = Some(c.request(&get(path)));
    }
    last.unwrap()
}

#[test]
fn a_rewritten_file_is_served_fresh_after_the_window() {
    let (server, dir) = server("cache-rewrite");
    let file = dir.join("changing.txt");
    std::fs::write(&file, "first version\n").unwrap();
    set_mtime(&file, 1_700_000_000);
    let mut c = server.connect();
    let r = hot(&mut c, "/static/changing.txt", 3);
    r.assert_status(200);
    assert_eq!(r.body_str(), "first version\n");
    let tag1 = r.header("etag").unwrap().to_string();

    // Another size.
    std::fs::write(&file, "the second, longer version\n").unwrap();
    set_mtime(&file, 1_700_000_000);
    std::thread::sleep(PAST_WINDOW);
    let r = c.request(&get("/static/changing.txt"));
    r.assert_status(200);
    assert_eq!(r.body_str(), "the second, longer version\n");
    let tag2 = r.header("etag").unwrap().to_string();
    assert_ne!(tag1, tag2);

    // The same size, another mtime: new bytes and a new ETag.
    std::fs::write(&file, "the second, LONGER version\n").unwrap();
    set_mtime(&file, 1_700_000_100);
    std::thread::sleep(PAST_WINDOW);
    let r = c.request(&get("/static/changing.txt"));
    assert_eq!(r.body_str(), "the second, LONGER version\n");
    assert_eq!(
        r.header("last-modified"),
        Some("Tue, 14 Nov 2023 22:15:00 GMT")
    );
    assert_ne!(r.header("etag").unwrap(), tag2);
    // The old ETag no longer gives a 304.
    let r = c.request(
        format!("GET /static/changing.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: {tag2}\r\n\r\n")
            .as_bytes(),
    );
    r.assert_status(200);
}

#[test]
fn a_deleted_file_is_404_after_the_window() {
    let (server, dir) = server("cache-delete");
    let file = dir.join("going.txt");
    std::fs::write(&file, "here for now\n").unwrap();
    let mut c = server.connect();
    hot(&mut c, "/static/going.txt", 3).assert_status(200);
    std::fs::remove_file(&file).unwrap();
    std::thread::sleep(PAST_WINDOW);
    c.request(&get("/static/going.txt")).assert_status(404);
    // And it stays gone.
    c.request(&get("/static/going.txt")).assert_status(404);
}

#[cfg(unix)]
#[test]
fn a_symlink_swapped_in_is_404_after_the_window() {
    let (server, dir) = server("cache-symlink");
    let file = dir.join("swapped.txt");
    std::fs::write(&file, "a plain file\n").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inner.txt"), "inner\n").unwrap();
    let mut c = server.connect();
    hot(&mut c, "/static/swapped.txt", 3).assert_status(200);
    hot(&mut c, "/static/sub/inner.txt", 3).assert_status(200);
    // The file becomes a link to the secret; the directory a link to a copy of itself.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(dir.join("../../secret.txt"), &file).unwrap();
    std::fs::rename(dir.join("sub"), dir.join("real-sub")).unwrap();
    std::os::unix::fs::symlink(dir.join("real-sub"), dir.join("sub")).unwrap();
    std::thread::sleep(PAST_WINDOW);
    let r = c.request(&get("/static/swapped.txt"));
    r.assert_status(404);
    assert!(!r.body_str().contains("SECRET-MARKER"));
    c.request(&get("/static/sub/inner.txt")).assert_status(404);
}

/// 5 MiB of bytes that differ from offset to offset (a shifted piece would show).
fn big_bytes() -> Vec<u8> {
    (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn a_large_file_is_sent_byte_for_byte_whole_and_as_a_range() {
    let (server, dir) = server("cache-large");
    let bytes = big_bytes();
    std::fs::write(dir.join("big.bin"), &bytes).unwrap();
    let mut c = server.connect();
    for _ in 0..2 {
        let r = c.request(&get("/static/big.bin"));
        r.assert_status(200);
        assert_eq!(r.header("content-length"), Some("5242880"));
        assert!(r.body == bytes, "the whole file differs");
    }
    let (first, last) = (1_000_003usize, 4_000_001usize);
    let r = c.request(
        format!("GET /static/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes={first}-{last}\r\n\r\n")
            .as_bytes(),
    );
    r.assert_status(206);
    let want = format!("bytes {first}-{last}/5242880");
    assert_eq!(r.header("content-range"), Some(want.as_str()));
    assert!(r.body == bytes[first..=last], "the range differs");
    // HEAD: the length, no body; the connection goes on.
    c.send(b"HEAD /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = c.read_head_response();
    assert_eq!(head.header("content-length"), Some("5242880"));
    c.request(&get("/plaintext")).assert_status(200);
}

#[test]
fn cached_entries_keep_etag_304_and_ranges() {
    let (server, dir) = server("cache-validators");
    let file = dir.join("v.txt");
    std::fs::write(&file, "0123456789\n").unwrap();
    set_mtime(&file, 1_700_000_000);
    let mut c = server.connect();
    let r = hot(&mut c, "/static/v.txt", 3);
    assert_eq!(r.header("etag"), Some("\"6553f100-b\""));
    assert_eq!(
        r.header("last-modified"),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    r.assert_header_starts("content-type", "text/plain");
    for _ in 0..2 {
        let r = c.request(
            b"GET /static/v.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"6553f100-b\"\r\n\r\n",
        );
        r.assert_status(304);
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some("\"6553f100-b\""));
        let r = c.request(b"GET /static/v.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\n\r\n");
        r.assert_status(206);
        assert_eq!(r.body_str(), "234");
        assert_eq!(r.header("content-range"), Some("bytes 2-4/11"));
        let r = c.request(b"GET /static/v.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-3\r\n\r\n");
        assert_eq!(r.body_str(), "89\n");
        let r = c.request(b"GET /static/v.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=20-\r\n\r\n");
        r.assert_status(416);
        assert_eq!(r.header("content-range"), Some("bytes */11"));
        let r = c.request(
            b"GET /static/v.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\nIf-Range: \"other\"\r\n\r\n",
        );
        r.assert_status(200);
        assert_eq!(r.body_str(), "0123456789\n");
    }
}
