//! `/static/…`: files under `www/static/`, with `ETag`/`Last-Modified`, 304 and
//! single byte ranges (SPEC "Pages and endpoints"), the way nginx serves a directory.
//!
//! Theory of operation: the router hands over `rest`, the raw (still percent-encoded)
//! path after `/static/`. It is split on `/` *before* decoding, so an encoded slash can
//! never make a new segment, and each segment is decoded and checked on its own. The
//! segments are joined onto the static directory, and no segment may be a symbolic
//! link (none is followed, not even one that stays inside:
//! [`files::open_inside`]). The rest is shared with `/uploads/` in [`crate::app::files`]:
//! only regular files are served, as [`crate::app::Body::File`] (the I/O layer reads
//! it in pieces and drops it for `HEAD`), with validators from the opened file
//! (`ETag: "<mtime hex>-<len hex>"`, `Last-Modified`), conditional GET → 304
//! ([`crate::http::conditional`]) and `Range`/`If-Range` → 206/416
//! ([`crate::http::range`]).
//!
//! Refusals, decided here:
//!
//! - **400** for bytes that are wrong rather than a path that is absent: a `%` not
//!   followed by two hex digits, and any control byte (`%00`–`%1f`, `%7f`) after
//!   decoding — no file name we serve contains one, and nginx also answers `%00` with 400.
//! - **404** for everything path-shaped, so a prober cannot tell "refused" from "absent":
//!   a segment that is `.` or `..` (raw or encoded, even when the result would stay
//!   inside), an encoded slash (`%2f`) or a backslash (raw or `%5c`) inside a segment,
//!   an empty segment (`//`, a leading `/`, a trailing `/`), a segment that is not
//!   UTF-8 after decoding, a path through a symbolic link (out or in), anything that
//!   is not a regular file (directories get no listing and no `index.html`:
//!   `/static/` holds assets, pages live elsewhere), and a file that does not exist.
//! - **403** for a file the server may not read (as nginx), **500** for other I/O errors.
//!
//! Dotfiles (`.well-known`, `.htaccess`) are served like any other file, as nginx does.
//!
//! The router calls [`serve_from_memory`]: files up to 64 KiB that were served lately
//! are answered from this worker's [`crate::app::file_cache`] for up to a second after
//! they were last checked; then (and for every path not in it) the request goes
//! exactly the way of [`serve`], so every refusal above is decided afresh each time.
//! One cache per worker thread (`thread_local`): a hit takes no lock, and the workers
//! share no cache line; an `RwLock` over one shared map would put an atomic
//! read-modify-write of one shared counter on every hit.

use crate::app::file_cache::{FileCache, Limits, Stamp};
use crate::app::files::{self, Place};
use crate::app::{Request, Response};
use crate::http::conditional::Validators;
use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why a request path names no file we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A control byte after decoding. 400.
    ControlByte,
    /// Path-shaped: dot-segment, encoded separator, empty segment, not UTF-8. 404.
    NotAFile,
}

pub(crate) fn serve(
    static_dir: &Path,
    rest: &str,
    req: &Request<'_>,
    render: files::Render<'_>,
) -> Response {
    let place = Place {
        noun: "file",
        prefix: "/static/",
        rest,
        render,
    };
    let relative = match relative_path(rest) {
        Ok(p) => p,
        Err(Refusal::ControlByte) => {
            return place.refuse(400, "control character in the path".into());
        }
        Err(Refusal::NotAFile) => return place.not_found(),
    };
    let opened = files::open_inside(static_dir, &relative);
    files::respond(req, opened, &place, files::content_type(&relative), |r| r)
}

thread_local! {
    /// This worker's small static files ([`crate::app::file_cache`]): one per thread, so a hit
    /// takes no lock.
    static CACHE: RefCell<FileCache> = RefCell::new(FileCache::new(Limits::default()));
}

/// [`serve`], with small files from this worker's cache (the router's entry point).
pub(crate) fn serve_from_memory(
    static_dir: &Path,
    rest: &str,
    req: &Request<'_>,
    render: files::Render<'_>,
) -> Response {
    let now = Instant::now();
    CACHE.with(|c| match c.try_borrow_mut() {
        Ok(mut cache) => serve_cached(&mut cache, static_dir, rest, req, render, now),
        // Never re-entered in practice (a page does not serve a page); if it were,
        // the disk answers.
        Err(_) => serve(static_dir, rest, req, render),
    })
}

/// [`serve`] through `cache`, at time `now`: a file checked less than a second ago
/// is answered from memory; otherwise the path is walked and the file opened exactly
/// as [`serve`] does (every refusal is its refusal), and a regular file small enough
/// is kept, or kept on if it has not changed ([`crate::app::file_cache`]).
pub(crate) fn serve_cached(
    cache: &mut FileCache,
    static_dir: &Path,
    rest: &str,
    req: &Request<'_>,
    render: files::Render<'_>,
    now: Instant,
) -> Response {
    let place = Place {
        noun: "file",
        prefix: "/static/",
        rest,
        render,
    };
    cache.select(static_dir, rest);
    if let Some(e) = cache.fresh(now) {
        return files::respond_cached(req, e, &place);
    }
    // Only paths that were served are ever cached, so a refusal is never a hit.
    let relative = match relative_path(rest) {
        Ok(p) => p,
        Err(Refusal::ControlByte) => {
            return place.refuse(400, "control character in the path".into());
        }
        Err(Refusal::NotAFile) => return place.not_found(),
    };
    let content_type = files::content_type(&relative);
    let (file, meta) = match files::open_inside(static_dir, &relative) {
        Ok(Some((file, meta))) if meta.len() <= cache.limits().max_file => (file, meta),
        other => {
            cache.remove();
            return files::respond(req, other, &place, content_type, |r| r);
        }
    };
    let stamp = Stamp::of(&meta);
    if cache.revalidate(stamp, now).is_none() {
        let mut bytes = vec![0; meta.len() as usize];
        if let Err(e) = (&file).read_exact(&mut bytes) {
            // Shorter than it said (being rewritten) or unreadable: answered from
            // the disk as without the cache, and not kept.
            cache.remove();
            log::debug!("/static/{rest}: not cached: {e}");
            let reopened = files::open_inside(static_dir, &relative);
            return files::respond(req, reopened, &place, content_type, |r| r);
        }
        let v = Validators::of_file(files::mtime_secs(&meta), meta.len());
        let last_modified = files::last_modified(&v);
        let inserted = cache.insert(stamp, bytes.into(), v, last_modified, content_type, now);
        if inserted.is_none() {
            let reopened = files::open_inside(static_dir, &relative);
            return files::respond(req, reopened, &place, content_type, |r| r);
        }
    }
    match cache.fresh(now) {
        Some(e) => files::respond_cached(req, e, &place),
        None => files::respond(req, Ok(Some((file, meta))), &place, content_type, |r| r),
    }
}

/// The path relative to the static directory that `rest` (already percent-decoded by
/// the router) names, or why it names none.
pub(crate) fn relative_path(rest: &str) -> Result<PathBuf, Refusal> {
    let mut path = PathBuf::new();
    for seg in rest.split('/') {
        if seg.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(Refusal::ControlByte);
        }
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains('\\') {
            return Err(Refusal::NotAFile);
        }
        path.push(seg);
    }
    Ok(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::app::Body;
    use crate::http::head::{HeaderSpan, Method, RequestHead, Span, TargetForm, Version};
    use std::fs::File;
    use std::io::Read;
    use std::time::{Duration, Instant, UNIX_EPOCH};

    /// 2023-11-14T22:13:20Z, `6553f100` in hex.
    const MTIME: u64 = 1_700_000_000;
    const HELLO: &[u8] = b"hello, static\n";
    const SECRET: &[u8] = b"top secret\n";

    /// A temporary `root/` holding `static/` (served) and `secret.txt` (outside it).
    struct Tree {
        root: PathBuf,
    }

    impl Tree {
        fn new(name: &str) -> Tree {
            let root = std::env::temp_dir().join(format!(
                "wirepost-static-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&root);
            let st = root.join("static");
            std::fs::create_dir_all(st.join("sub")).unwrap();
            write(&st.join("hello.txt"), HELLO);
            write(&st.join("style.CSS"), b"body{}");
            write(&st.join("sub/a.js"), b"let a;");
            write(&st.join("sub/index.html"), b"<p>index</p>");
            write(&root.join("secret.txt"), SECRET);
            Tree { root }
        }
        fn dir(&self) -> PathBuf {
            self.root.join("static")
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::write(path, bytes).unwrap();
        let f = File::options().write(true).open(path).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(MTIME))
            .unwrap();
    }

    /// A `GET` head with these header fields, laid out by hand.
    pub(crate) struct Head {
        buf: Vec<u8>,
        spans: Vec<HeaderSpan>,
    }

    impl Head {
        pub(crate) fn new(fields: &[(&str, &str)]) -> Head {
            let mut buf = b"GET /static/x HTTP/1.1\r\n".to_vec();
            let mut spans = Vec::new();
            for (i, (name, value)) in fields.iter().enumerate() {
                let n0 = buf.len() as u32;
                buf.extend_from_slice(name.as_bytes());
                let n1 = buf.len() as u32;
                buf.extend_from_slice(b": ");
                let v0 = buf.len() as u32;
                buf.extend_from_slice(value.as_bytes());
                let v1 = buf.len() as u32;
                buf.extend_from_slice(b"\r\n");
                spans.push(HeaderSpan {
                    name: Span { start: n0, end: n1 },
                    value: Span { start: v0, end: v1 },
                    line: i as u32 + 2,
                });
            }
            buf.extend_from_slice(b"\r\n");
            Head { buf, spans }
        }
        pub(crate) fn request(&self) -> Request<'_> {
            Request {
                head: RequestHead {
                    buf: &self.buf,
                    method: Method::Get,
                    method_span: Span { start: 0, end: 3 },
                    target_span: Span { start: 4, end: 13 },
                    target_form: TargetForm::Origin,
                    path_end: 13,
                    version: Version::Http11,
                    headers: &self.spans,
                },
                body: b"",
                chunked: false,
                route: Default::default(),
                decoded: None,
                peer: None,
            }
        }
    }

    /// `rest` percent-decoded as the router does it (a path it refuses is its 400),
    /// then served.
    fn get(tree: &Tree, rest: &str, fields: &[(&str, &str)]) -> Response {
        let head = Head::new(fields);
        match crate::http::pct::decode_path(rest) {
            Ok(decoded) => serve(&tree.dir(), &decoded, &head.request(), &text),
            Err(e) => Response::text_error(400, &e.to_string()),
        }
    }

    /// Refusals as plain text (the router renders them by `Accept`).
    pub(crate) fn text(p: crate::http::Problem) -> Response {
        Response::text_error(p.status, &p.message)
    }

    pub(crate) fn header<'r>(r: &'r Response, name: &str) -> Option<&'r str> {
        r.head
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    fn body_bytes(r: Response) -> Vec<u8> {
        match r.body {
            Body::File { mut file, len } => {
                let mut out = Vec::new();
                file.read_to_end(&mut out).unwrap();
                assert_eq!(out.len() as u64, len);
                out
            }
            Body::Empty => Vec::new(),
            Body::Static(b) => b.to_vec(),
            Body::Bytes(b) => b,
            Body::Shared { bytes, start, len } => {
                bytes[start as usize..(start + len) as usize].to_vec()
            }
        }
    }

    fn etag_of(len: usize) -> String {
        format!("\"6553f100-{len:x}\"")
    }

    #[test]
    fn serves_bytes_type_and_validators() {
        let t = Tree::new("serve");
        let r = get(&t, "hello.txt", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(
            r.head.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(header(&r, "ETag"), Some("\"6553f100-e\""));
        assert_eq!(etag_of(HELLO.len()), "\"6553f100-e\"");
        assert_eq!(
            header(&r, "Last-Modified"),
            Some("Tue, 14 Nov 2023 22:13:20 GMT")
        );
        assert_eq!(body_bytes(r), HELLO);

        let r = get(&t, "sub/a.js", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(
            r.head.content_type.as_deref(),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(body_bytes(r), b"let a;");

        // Extensions are matched case-insensitively; escapes of ordinary bytes decode.
        let r = get(&t, "style.%43SS", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(
            r.head.content_type.as_deref(),
            Some("text/css; charset=utf-8")
        );
    }

    #[test]
    fn if_none_match_gives_304() {
        let t = Tree::new("inm");
        let tag = etag_of(HELLO.len());
        let weak = format!("W/{tag}");
        let list = format!("\"nope\", ,W/\"x,y\" ,{tag}");
        for value in [tag.as_str(), weak.as_str(), list.as_str(), "*", " * "] {
            let r = get(&t, "hello.txt", &[("If-None-Match", value)]);
            assert_eq!(r.head.status, 304, "{value}");
            assert!(matches!(r.body, Body::Empty));
            assert!(r.head.content_type.is_none());
            assert_eq!(header(&r, "ETag"), Some(tag.as_str()));
            assert_eq!(
                header(&r, "Last-Modified"),
                Some("Tue, 14 Nov 2023 22:13:20 GMT")
            );
        }
        // A second If-None-Match field line counts too.
        let r = get(
            &t,
            "hello.txt",
            &[("If-None-Match", "\"a\""), ("if-none-match", &tag)],
        );
        assert_eq!(r.head.status, 304);
    }

    #[test]
    fn if_none_match_miss_gives_200_and_overrides_ims() {
        let t = Tree::new("inm-miss");
        let tag = etag_of(HELLO.len());
        let unquoted = tag.trim_matches('"').to_owned();
        let other_len = etag_of(HELLO.len() + 1);
        for value in ["\"other\"", unquoted.as_str(), other_len.as_str(), "", "W/"] {
            let r = get(
                &t,
                "hello.txt",
                &[
                    ("If-None-Match", value),
                    ("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT"),
                ],
            );
            assert_eq!(r.head.status, 200, "{value:?}");
            assert_eq!(body_bytes(r), HELLO);
        }
    }

    #[test]
    fn if_modified_since() {
        let t = Tree::new("ims");
        let cases = [
            ("Tue, 14 Nov 2023 22:13:20 GMT", 304), // equal
            ("Tue, 14 Nov 2023 22:13:21 GMT", 304), // later
            ("Wed, 15 Nov 2023 00:00:00 GMT", 304),
            ("Tue, 14 Nov 2023 22:13:19 GMT", 200), // earlier
            ("yesterday", 200),                     // not a date: ignored
            ("", 200),
        ];
        for (date, status) in cases {
            let r = get(&t, "hello.txt", &[("If-Modified-Since", date)]);
            assert_eq!(r.head.status, status, "{date:?}");
            if status == 304 {
                assert!(matches!(r.body, Body::Empty));
                assert_eq!(header(&r, "ETag"), Some(etag_of(HELLO.len()).as_str()));
            } else {
                assert_eq!(body_bytes(r), HELLO);
            }
        }
    }

    /// `/static/` answers ranges as `/uploads/` does (and as nginx does).
    #[test]
    fn ranges_206_and_416() {
        let t = Tree::new("range");
        let r = get(&t, "hello.txt", &[]);
        assert_eq!(header(&r, "Accept-Ranges"), Some("bytes"));
        let r = get(&t, "hello.txt", &[("Range", "bytes=0-4")]);
        assert_eq!(r.head.status, 206);
        assert_eq!(header(&r, "Content-Range"), Some("bytes 0-4/14"));
        assert_eq!(header(&r, "Accept-Ranges"), Some("bytes"));
        assert_eq!(header(&r, "ETag"), Some(etag_of(HELLO.len()).as_str()));
        let Body::File { file, len } = r.body else {
            panic!("a slice of the file");
        };
        let mut out = Vec::new();
        file.take(len).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello");
        let r = get(&t, "hello.txt", &[("Range", "bytes=99-")]);
        assert_eq!(r.head.status, 416);
        assert_eq!(header(&r, "Content-Range"), Some("bytes */14"));
        // If-Range that does not match: the whole file.
        let r = get(
            &t,
            "hello.txt",
            &[("Range", "bytes=0-4"), ("If-Range", "\"other\"")],
        );
        assert_eq!(r.head.status, 200);
        assert_eq!(body_bytes(r), HELLO);
    }

    /// Never the secret, whatever the status.
    fn refused(t: &Tree, rest: &str, status: u16) {
        let r = get(t, rest, &[]);
        assert_eq!(r.head.status, status, "{rest:?}");
        assert!(!matches!(r.body, Body::File { .. }), "{rest:?}");
        let body = body_bytes(r);
        assert!(!body.windows(SECRET.len()).any(|w| w == SECRET), "{rest:?}");
    }

    #[test]
    fn escapes_are_refused() {
        let t = Tree::new("escape");
        for rest in [
            "../secret.txt",
            "%2e%2e/secret.txt",
            "%2E%2e/secret.txt",
            ".%2e/secret.txt",
            "sub/../../secret.txt",
            "sub/../hello.txt", // stays inside, still a dot-segment
            "sub%5ca.js",
            "sub%5Ca.js",
            "sub\\a.js",
            "..%5csecret.txt",
            "./hello.txt",
            "%2e/hello.txt",
            "sub/./a.js",
            "/etc/passwd", // `/static//etc/passwd`
            "/../secret.txt",
            "sub//a.js",
            "hello.txt/",
            "",
            "..",
        ] {
            refused(&t, rest, 404);
        }
        for rest in [
            "hello.txt%00",
            "%00/../secret.txt",
            "hello%0a.txt",
            "hello%7f.txt",
            "hello%zz.txt",
            "hello.txt%",
            "hello.txt%4",
            "%%32%65%%32%65/secret.txt",
            // Refused by the router's decoding: an encoded `/`, not UTF-8.
            "..%2fsecret.txt",
            "..%2Fsecret.txt",
            "sub%2fa.js", // exists, but not through an encoded slash
            "sub%2Fa.js",
            "%ff.txt",
        ] {
            refused(&t, rest, 400);
        }
    }

    #[test]
    fn directories_and_missing_files_are_404() {
        let t = Tree::new("dir");
        refused(&t, "sub", 404);
        refused(&t, "sub/", 404);
        refused(&t, "nope.txt", 404);
        refused(&t, "sub/nope/deeper.txt", 404);
        refused(&t, "hello.txt/more", 404);
        refused(&t, &"a".repeat(300), 404); // longer than NAME_MAX
        // A static directory that does not exist serves nothing.
        let head = Head::new(&[]);
        let r = serve(&t.root.join("absent"), "hello.txt", &head.request(), &text);
        assert_eq!(r.head.status, 404);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_and_in_are_refused() {
        use std::os::unix::fs::symlink;
        let t = Tree::new("symlink");
        let st = t.dir();
        symlink(t.root.join("secret.txt"), st.join("link.txt")).unwrap();
        symlink(&t.root, st.join("up")).unwrap();
        symlink("hello.txt", st.join("alias.txt")).unwrap();
        refused(&t, "link.txt", 404);
        refused(&t, "up/secret.txt", 404);
        refused(&t, "up/static/hello.txt/../../secret.txt", 404);
        refused(&t, "alias.txt", 404);
        // The file itself is served.
        let r = get(&t, "hello.txt", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(body_bytes(r), HELLO);
    }

    /// `rest` through a cache at `now`, as [`get`] does without one.
    fn get_cached(
        cache: &mut FileCache,
        tree: &Tree,
        rest: &str,
        fields: &[(&str, &str)],
        now: Instant,
    ) -> Response {
        let head = Head::new(fields);
        match crate::http::pct::decode_path(rest) {
            Ok(decoded) => serve_cached(cache, &tree.dir(), &decoded, &head.request(), &text, now),
            Err(e) => Response::text_error(400, &e.to_string()),
        }
    }

    fn shared(r: &Response) -> Option<&std::sync::Arc<[u8]>> {
        match &r.body {
            Body::Shared { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// The head as it goes on the wire (with a fixed `Date`).
    fn wire_head(r: &Response) -> String {
        use crate::http::response::{EncodeCtx, Framing, encode_head};
        let ctx = EncodeCtx {
            date: b"Thu, 01 Jan 1970 00:00:00 GMT",
            version: crate::http::head::Version::Http11,
            keep_alive: true,
        };
        let mut out = Vec::new();
        encode_head(&r.head, Framing::Length(r.body.len()), &ctx, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// A field of the head as it goes on the wire.
    fn wire_header(r: &Response, name: &str) -> Option<String> {
        let prefix = format!("{name}: ");
        (wire_head(r).lines()).find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    /// Head and body bytes, to compare a cached answer with an uncached one.
    fn seen(r: Response) -> (String, Vec<u8>) {
        let head = wire_head(&r);
        let body = match r.body {
            Body::File { file, len } => {
                let mut out = Vec::new();
                file.take(len).read_to_end(&mut out).unwrap();
                out
            }
            other => body_bytes(Response { body: other, ..r }),
        };
        (head, body)
    }

    /// Every path and header set of the tests above gets the same answer through the
    /// cache, cold and then hot, as without it: the refusals are decided afresh.
    #[test]
    fn the_cache_answers_exactly_as_the_disk() {
        let t = Tree::new("same");
        #[cfg(unix)]
        std::os::unix::fs::symlink("hello.txt", t.dir().join("alias.txt")).unwrap();
        let mut cache = FileCache::new(Limits::default());
        let now = Instant::now();
        let tag = etag_of(HELLO.len());
        let header_sets: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("If-None-Match", tag.as_str())],
            vec![("If-None-Match", "\"other\"")],
            vec![("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")],
            vec![("If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT")],
            vec![("Range", "bytes=0-4")],
            vec![("Range", "bytes=3-")],
            vec![("Range", "bytes=-2")],
            vec![("Range", "bytes=99-")],
            vec![("Range", "bytes=0-4"), ("If-Range", "\"other\"")],
            vec![("Range", "bytes=0-4"), ("If-Range", tag.as_str())],
        ];
        let paths = [
            "hello.txt",
            "style.%43SS",
            "sub/a.js",
            "sub/index.html",
            "../secret.txt",
            "%2e%2e/secret.txt",
            "sub/../hello.txt",
            "sub%5ca.js",
            "./hello.txt",
            "sub//a.js",
            "hello.txt/",
            "",
            "..",
            "hello.txt%00",
            "hello%0a.txt",
            "hello%zz.txt",
            "sub%2fa.js",
            "%ff.txt",
            "sub",
            "sub/",
            "nope.txt",
            "hello.txt/more",
            "alias.txt",
        ];
        for round in 0..2 {
            for rest in paths {
                for fields in &header_sets {
                    let want = seen(get(&t, rest, fields));
                    let r = get_cached(&mut cache, &t, rest, fields, now);
                    if round == 1 && want.0.starts_with("HTTP/1.1 200") {
                        assert!(shared(&r).is_some(), "{rest:?} from memory");
                    }
                    assert_eq!(seen(r), want, "{rest:?} {fields:?} round {round}");
                }
            }
        }
        // Only the four files that were served are kept.
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn a_changed_file_is_read_again_after_the_window_and_only_then() {
        let t = Tree::new("changed");
        let mut cache = FileCache::new(Limits::default());
        let t0 = Instant::now();
        let path = t.dir().join("hello.txt");
        let first = get_cached(&mut cache, &t, "hello.txt", &[], t0);
        let bytes = shared(&first).unwrap().clone();
        assert_eq!(&bytes[..], HELLO);

        // Same size, another mtime.
        std::fs::write(&path, b"HELLO, STATIC\n").unwrap();
        let f = File::options().write(true).open(&path).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(MTIME + 16))
            .unwrap();
        let within = get_cached(
            &mut cache,
            &t,
            "hello.txt",
            &[],
            t0 + Duration::from_millis(900),
        );
        assert_eq!(body_bytes(within), HELLO, "trusted within the window");
        let after = t0 + Duration::from_secs(1);
        let r = get_cached(&mut cache, &t, "hello.txt", &[], after);
        assert_eq!(wire_header(&r, "ETag").as_deref(), Some("\"6553f110-e\""));
        assert_eq!(body_bytes(r), b"HELLO, STATIC\n");

        // Unchanged at the next check: the same bytes are kept (no read).
        let r = get_cached(&mut cache, &t, "hello.txt", &[], after);
        let kept = shared(&r).unwrap().clone();
        let later = after + Duration::from_secs(5);
        let r = get_cached(&mut cache, &t, "hello.txt", &[], later);
        assert!(std::sync::Arc::ptr_eq(&kept, shared(&r).unwrap()));

        // Another size.
        write(&path, b"short\n");
        let r = get_cached(
            &mut cache,
            &t,
            "hello.txt",
            &[],
            later + Duration::from_secs(1),
        );
        assert_eq!(wire_header(&r, "ETag").as_deref(), Some("\"6553f100-6\""));
        assert_eq!(body_bytes(r), b"short\n");

        // Gone: 404, and the entry with it.
        std::fs::remove_file(&path).unwrap();
        let r = get_cached(
            &mut cache,
            &t,
            "hello.txt",
            &[],
            later + Duration::from_secs(2),
        );
        assert_eq!(r.head.status, 404);
        assert_eq!(cache.len(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_swapped_in_is_refused_at_the_next_check() {
        let t = Tree::new("swap");
        let mut cache = FileCache::new(Limits::default());
        let t0 = Instant::now();
        assert_eq!(
            get_cached(&mut cache, &t, "sub/a.js", &[], t0).head.status,
            200
        );
        let st = t.dir();
        std::fs::rename(st.join("sub"), st.join("real")).unwrap();
        std::os::unix::fs::symlink(st.join("real"), st.join("sub")).unwrap();
        let r = get_cached(&mut cache, &t, "sub/a.js", &[], t0 + Duration::from_secs(1));
        assert_eq!(r.head.status, 404);
        // The file itself becomes a link (to the secret outside).
        assert_eq!(
            get_cached(&mut cache, &t, "hello.txt", &[], t0).head.status,
            200
        );
        std::fs::remove_file(st.join("hello.txt")).unwrap();
        std::os::unix::fs::symlink(t.root.join("secret.txt"), st.join("hello.txt")).unwrap();
        let r = get_cached(
            &mut cache,
            &t,
            "hello.txt",
            &[],
            t0 + Duration::from_secs(1),
        );
        assert_eq!(r.head.status, 404);
        assert!(!body_bytes(r).windows(SECRET.len()).any(|w| w == SECRET));
    }

    #[test]
    fn a_file_over_the_limit_is_served_from_disk() {
        let t = Tree::new("big");
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        write(&t.dir().join("big.bin"), &big);
        let mut cache = FileCache::new(Limits::default());
        let now = Instant::now();
        for _ in 0..2 {
            let r = get_cached(&mut cache, &t, "big.bin", &[], now);
            assert!(matches!(r.body, Body::File { .. }));
            assert_eq!(body_bytes(r), big);
        }
        let r = get_cached(
            &mut cache,
            &t,
            "big.bin",
            &[("Range", "bytes=70000-70009")],
            now,
        );
        assert_eq!(r.head.status, 206);
        let Body::File { file, len } = r.body else {
            panic!("from disk");
        };
        let mut out = Vec::new();
        file.take(len).read_to_end(&mut out).unwrap();
        assert_eq!(out, &big[70000..70010]);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn decoded_paths_name_files() {
        let decoded = |raw| relative_path(&crate::http::pct::decode_path(raw).unwrap());
        assert_eq!(
            decoded("sub/a%20b.txt").unwrap(),
            PathBuf::from("sub/a b.txt")
        );
        assert_eq!(decoded("caf%C3%A9.txt").unwrap(), PathBuf::from("café.txt"));
    }
}
