//! `/uploads/<name>`: a stored upload, byte for byte (SPEC "Uploads"), with validators,
//! conditional GET and single byte ranges.
//!
//! Theory of operation: the router hands over `raw_name`, the path after `/uploads/`,
//! percent-decoded (a bad escape, an encoded `/`, NUL or non-UTF-8 was its 400). It is
//! checked by the `/static/` page's rules ([`static_files::relative_path`]: 400 for a
//! control byte, 404 for anything path-shaped) and must be exactly one segment; [`UploadDir::stored`] then
//! refuses temporary files (`.tmp-…`) and names that do not exist. The page opens the
//! file and answers with [`crate::app::Body::File`], positioned where the body starts.
//!
//! Every response of this page, errors included, carries
//! `X-Content-Type-Options: nosniff` (the encoder adds it to every response but the
//! benchmark ones, see [`crate::http::response`]), so a browser keeps to our
//! `Content-Type` (from the `/static/` table). Uploads are other people's bytes served from our origin: the
//! active types — HTML (`.html`, `.htm`, `.xhtml`…), SVG, XML and JavaScript — go out
//! with `Content-Disposition: attachment`, so a browser saves them instead of running
//! them here; everything else is `inline`. Both carry the file name (RFC 6266), with
//! `filename*=UTF-8''…` (RFC 8187) when the plain `filename` had to lose characters.
//!
//! Validators, conditional GET (304), `If-Range` and single byte ranges (206, 416
//! with `Content-Range: bytes */len`; several ranges or a malformed `Range` get the
//! whole file) are the `/static/` ones, shared in [`crate::app::files`] (the rules are
//! in [`crate::http::conditional`] and [`crate::http::range`]); `Content-Disposition`
//! goes on the 200 and 206 answers only.
//!
//! `HEAD` needs nothing here: the I/O layer writes the head and drops the body.

use crate::app::files::{self, Place};
use crate::app::pages::static_files::{self, Refusal};
use crate::app::{Request, Response};
use crate::http::chars::ATTR_CHAR;
use crate::store::uploads::UploadDir;
use std::path::{Component, Path};

/// Extensions of types a browser would run (scripts) or render as a document that can
/// script our origin; served as attachments.
const ACTIVE_EXTENSIONS: &[&str] = &[
    "html", "htm", "shtml", "xhtml", "xht", "svg", "svgz", "xml", "xsl", "xslt", "js", "mjs",
];

/// Media types a browser runs or renders as an active document; served as attachments
/// whatever the extension that gave them.
const ACTIVE_TYPES: &[&str] = &[
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/xml",
    "text/xml",
    "text/javascript",
    "application/javascript",
];

pub(crate) fn serve(
    dir: &UploadDir,
    raw_name: &str,
    req: &Request<'_>,
    render: files::Render<'_>,
) -> Response {
    let place = Place {
        noun: "upload",
        prefix: "/uploads/",
        rest: raw_name,
        render,
    };
    let name = match stored_name(raw_name) {
        Ok(name) => name,
        Err(Refusal::ControlByte) => {
            return place.refuse(400, "control character in the upload's name".into());
        }
        Err(Refusal::NotAFile) => return place.not_found(),
    };
    let Some(path) = dir.stored(&name) else {
        return place.not_found();
    };
    let content_type = files::content_type(Path::new(&name));
    let opened = files::open_no_follow(&path);
    files::respond(req, opened, &place, content_type, |r| {
        r.header(
            "Content-Disposition",
            content_disposition(&name, content_type),
        )
    })
}

/// The decoded name: one segment, by the `/static/` rules.
fn stored_name(raw_name: &str) -> Result<String, Refusal> {
    let path = static_files::relative_path(raw_name)?;
    let mut parts = path.components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(name)), None) => {
            name.to_str().map(str::to_owned).ok_or(Refusal::NotAFile)
        }
        _ => Err(Refusal::NotAFile),
    }
}

/// `attachment` for active types, `inline` for the rest, with the file name (RFC 6266
/// §4.1):
///
/// ```text
/// content-disposition = "Content-Disposition" ":" disposition-type *( ";" disposition-parm )
/// filename-parm       = "filename" "=" value / "filename*" "=" ext-value
/// ext-value           = charset "'" [ language ] "'" value-chars    ; RFC 8187 §3.2.1
/// value-chars         = *( pct-encoded / attr-char )
/// attr-char           = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "."
///                     / "^" / "_" / "`" / "|" / "~"
/// ```
///
/// `filename` is a quoted-string of printable ASCII with `_` for anything else (and
/// for `"` and `\`); when that changed the name, `filename*` carries it exactly.
fn content_disposition(name: &str, content_type: &str) -> String {
    let kind = if is_active(name, content_type) {
        "attachment"
    } else {
        "inline"
    };
    let mut out = format!("{kind}; filename=\"");
    let mut lossy = false;
    for c in name.chars() {
        if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
            out.push(c);
        } else {
            out.push('_');
            lossy = true;
        }
    }
    out.push('"');
    if lossy {
        out.push_str("; filename*=UTF-8''");
        for b in name.bytes() {
            if ATTR_CHAR[b as usize] {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Whether a browser would run this upload or render it as a document of our origin.
fn is_active(name: &str, content_type: &str) -> bool {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    ACTIVE_EXTENSIONS.contains(&ext.as_str())
        || ACTIVE_TYPES.iter().any(|t| t.eq_ignore_ascii_case(essence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Body;
    use crate::app::pages::static_files::tests::{Head, header};
    use std::fs::File;
    use std::io::Read;
    use std::path::PathBuf;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2023-11-14T22:13:20Z, `6553f100` in hex.
    const MTIME: u64 = 1_700_000_000;
    const LAST_MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const DIGITS: &[u8] = b"0123456789";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe";
    const SECRET: &[u8] = b"top secret\n";

    /// A temporary `root/` holding `uploads/` (served) and `secret.txt` (outside it).
    struct Store {
        root: PathBuf,
        dir: UploadDir,
    }

    impl Store {
        fn new(tag: &str) -> Store {
            let root = std::env::temp_dir().join(format!(
                "wirepost-serve-uploads-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&root);
            let up = root.join("uploads");
            std::fs::create_dir_all(&up).unwrap();
            let dir = UploadDir::open(&up).unwrap();
            write(&root.join("secret.txt"), SECRET);
            write(&up.join("digits-1.txt"), DIGITS);
            write(&up.join("cat-1.png"), PNG);
            write(&up.join("empty-1.bin"), b"");
            write(&up.join("page-1.html"), b"<script>alert(1)</script>");
            write(&up.join("old-1.HTM"), b"<p>old</p>");
            write(&up.join("doc-1.xhtml"), b"<html/>");
            write(&up.join("pic-1.svg"), b"<svg/>");
            write(&up.join("feed-1.xml"), b"<feed/>");
            write(&up.join("app-1.js"), b"alert(1)");
            write(&up.join("caf\u{e9}-1.jpg"), b"jpeg");
            write(&up.join("r\u{e9}sum\u{e9}-1.html"), b"<p>cv</p>");
            // Not ours to serve: a temp file (written after open, which removes them),
            // a directory, a file in it.
            write(&up.join(".tmp-1-2"), SECRET);
            std::fs::create_dir_all(up.join("a")).unwrap();
            write(&up.join("a/b"), SECRET);
            Store { root, dir }
        }
    }

    impl Drop for Store {
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

    fn get(s: &Store, raw_name: &str, fields: &[(&str, &str)]) -> Response {
        let head = Head::new(fields);
        // Percent-decoded as the router does it (a path it refuses is its 400).
        let r = match crate::http::pct::decode_path(raw_name) {
            Ok(name) => serve(&s.dir, &name, &head.request(), &static_files::tests::text),
            Err(e) => Response::text_error(400, &e.to_string()),
        };
        // The encoder adds `X-Content-Type-Options: nosniff` to this head.
        assert!(r.head.security, "{raw_name:?} {fields:?}");
        r
    }

    /// The body as the I/O layer sends it: `len` bytes from the file's position.
    fn body_bytes(r: Response) -> Vec<u8> {
        match r.body {
            Body::File { file, len } => {
                let mut out = Vec::new();
                file.take(len).read_to_end(&mut out).unwrap();
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

    fn range(s: &Store, value: &str) -> Response {
        get(s, "digits-1.txt", &[("Range", value)])
    }

    fn assert_slice(r: Response, content_range: &str, bytes: &[u8]) {
        assert_eq!(r.head.status, 206, "{content_range}");
        assert_eq!(header(&r, "Content-Range"), Some(content_range));
        assert_eq!(header(&r, "Accept-Ranges"), Some("bytes"));
        assert_eq!(header(&r, "ETag"), Some(etag_of(DIGITS.len()).as_str()));
        assert_eq!(
            r.head.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(body_bytes(r), bytes, "{content_range}");
    }

    fn assert_whole(r: Response, why: &str) {
        assert_eq!(r.head.status, 200, "{why}");
        assert_eq!(header(&r, "Content-Range"), None, "{why}");
        assert_eq!(header(&r, "Accept-Ranges"), Some("bytes"));
        assert_eq!(body_bytes(r), DIGITS, "{why}");
    }

    #[test]
    fn full_get_bytes_and_headers() {
        let s = Store::new("full");
        let r = get(&s, "cat-1.png", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(r.head.content_type.as_deref(), Some("image/png"));
        assert_eq!(header(&r, "ETag"), Some(etag_of(PNG.len()).as_str()));
        assert_eq!(header(&r, "Last-Modified"), Some(LAST_MODIFIED));
        assert_eq!(header(&r, "Accept-Ranges"), Some("bytes"));
        assert_eq!(
            header(&r, "Content-Disposition"),
            Some("inline; filename=\"cat-1.png\"")
        );
        assert_eq!(header(&r, "Content-Range"), None);
        assert_eq!(body_bytes(r), PNG);

        let r = get(&s, "empty-1.bin", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(
            r.head.content_type.as_deref(),
            Some("application/octet-stream")
        );
        assert_eq!(body_bytes(r), b"");

        // Escapes of ordinary bytes decode.
        let r = get(&s, "cat%2D1.png", &[]);
        assert_eq!(body_bytes(r), PNG);
    }

    #[test]
    fn active_types_are_attachments() {
        let s = Store::new("active");
        let cases = [
            ("page-1.html", "text/html; charset=utf-8"),
            ("old-1.HTM", "text/html; charset=utf-8"),
            ("doc-1.xhtml", "application/octet-stream"),
            ("pic-1.svg", "image/svg+xml"),
            ("feed-1.xml", "application/octet-stream"),
            ("app-1.js", "text/javascript; charset=utf-8"),
        ];
        for (name, ct) in cases {
            let r = get(&s, name, &[]);
            assert_eq!(r.head.status, 200, "{name}");
            assert_eq!(r.head.content_type.as_deref(), Some(ct), "{name}");
            let want = format!("attachment; filename=\"{name}\"");
            assert_eq!(header(&r, "Content-Disposition"), Some(want.as_str()));
        }
        // Ranges of an attachment are attachments too.
        let r = get(&s, "page-1.html", &[("Range", "bytes=0-7")]);
        assert_eq!(r.head.status, 206);
        assert_eq!(
            header(&r, "Content-Disposition"),
            Some("attachment; filename=\"page-1.html\"")
        );
        assert_eq!(body_bytes(r), b"<script>");
        // By media type too, whatever the extension that gave it.
        assert!(is_active("x.bin", "application/xhtml+xml"));
        assert!(is_active("x", "Text/HTML; charset=utf-8"));
        assert!(!is_active("x.png", "image/png"));
        assert!(!is_active("x.html.txt", "text/plain; charset=utf-8"));
    }

    #[test]
    fn non_ascii_names_get_filename_star() {
        let s = Store::new("utf8");
        let r = get(&s, "caf%C3%A9-1.jpg", &[]);
        assert_eq!(r.head.status, 200);
        assert_eq!(r.head.content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(
            header(&r, "Content-Disposition"),
            Some("inline; filename=\"caf_-1.jpg\"; filename*=UTF-8''caf%C3%A9-1.jpg")
        );
        assert_eq!(body_bytes(r), b"jpeg");
        let r = get(&s, "r%c3%a9sum%c3%a9-1.html", &[]);
        assert_eq!(
            header(&r, "Content-Disposition"),
            Some(
                "attachment; filename=\"r_sum_-1.html\"; \
                 filename*=UTF-8''r%C3%A9sum%C3%A9-1.html"
            )
        );
        assert_eq!(
            content_disposition("a\"b\\c d.txt", "text/plain"),
            "inline; filename=\"a_b_c d.txt\"; filename*=UTF-8''a%22b%5Cc%20d.txt"
        );
    }

    #[test]
    fn single_ranges() {
        let s = Store::new("ranges");
        assert_slice(range(&s, "bytes=0-0"), "bytes 0-0/10", b"0");
        assert_slice(range(&s, "bytes=0-4"), "bytes 0-4/10", b"01234");
        assert_slice(range(&s, "bytes=5-"), "bytes 5-9/10", b"56789");
        assert_slice(range(&s, "bytes=9-9"), "bytes 9-9/10", b"9");
        assert_slice(range(&s, "bytes=-3"), "bytes 7-9/10", b"789");
        assert_slice(range(&s, "bytes=-10"), "bytes 0-9/10", DIGITS);
        assert_slice(range(&s, "bytes=-30"), "bytes 0-9/10", DIGITS);
        assert_slice(range(&s, "bytes=0-999999"), "bytes 0-9/10", DIGITS);
        assert_slice(
            range(&s, "bytes=3-99999999999999999999999"),
            "bytes 3-9/10",
            b"3456789",
        );
        // Case-insensitive unit, OWS, empty list elements.
        assert_slice(range(&s, "BYTES=1-2"), "bytes 1-2/10", b"12");
        assert_slice(range(&s, " bytes=1-2 "), "bytes 1-2/10", b"12");
        assert_slice(range(&s, "bytes=, 1-2 ,"), "bytes 1-2/10", b"12");
        // A PNG slice, byte for byte.
        let r = get(&s, "cat-1.png", &[("Range", "bytes=8-")]);
        assert_eq!(r.head.status, 206);
        assert_eq!(body_bytes(r), &PNG[8..]);
    }

    #[test]
    fn ignored_ranges_give_the_whole_file() {
        let s = Store::new("ignored");
        for value in [
            "bytes=10-5", // last-pos before first-pos
            "items=0-1",  // another unit
            "bytes=0-1,5-6",
            "bytes=0-1, 20-30",
            "bytes=",
            "bytes=-",
            "bytes=abc",
            "bytes=1",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=0x1-2",
            "bytes = 0-1",
            "0-1",
            "",
        ] {
            assert_whole(range(&s, value), value);
        }
        let r = get(
            &s,
            "digits-1.txt",
            &[("Range", "bytes=0-1"), ("Range", "bytes=0-1")],
        );
        assert_whole(r, "two Range fields");
    }

    #[test]
    fn unsatisfiable_ranges_are_416() {
        let s = Store::new("416");
        for value in [
            "bytes=10-",
            "bytes=10-20",
            "bytes=99-",
            "bytes=-0",
            "bytes=99999999999999999999999-",
        ] {
            let r = range(&s, value);
            assert_eq!(r.head.status, 416, "{value}");
            assert_eq!(header(&r, "Content-Range"), Some("bytes */10"), "{value}");
            assert!(!matches!(r.body, Body::File { .. }));
            let body = String::from_utf8(body_bytes(r)).unwrap();
            assert!(body.starts_with("416 Range Not Satisfiable"), "{body}");
        }
        // An empty file: no int-range is satisfiable; a suffix gets the (empty) whole.
        let r = get(&s, "empty-1.bin", &[("Range", "bytes=0-")]);
        assert_eq!(r.head.status, 416);
        assert_eq!(header(&r, "Content-Range"), Some("bytes */0"));
        let r = get(&s, "empty-1.bin", &[("Range", "bytes=-5")]);
        assert_eq!(r.head.status, 200);
        assert_eq!(body_bytes(r), b"");
    }

    #[test]
    fn if_range() {
        let s = Store::new("if-range");
        let tag = etag_of(DIGITS.len());
        for value in [tag.as_str(), LAST_MODIFIED, &format!(" {tag} ")] {
            let r = get(
                &s,
                "digits-1.txt",
                &[("Range", "bytes=0-4"), ("If-Range", value)],
            );
            assert_slice(r, "bytes 0-4/10", b"01234");
        }
        let weak = format!("W/{tag}");
        for value in [
            "\"other\"",
            weak.as_str(),                   // weak never matches strongly
            "Tue, 14 Nov 2023 22:13:21 GMT", // not equal to Last-Modified
            "Tue, 14 Nov 2023 22:13:19 GMT",
            "yesterday",
            "",
        ] {
            let r = get(
                &s,
                "digits-1.txt",
                &[("Range", "bytes=0-4"), ("If-Range", value)],
            );
            assert_whole(r, value);
        }
        // Two If-Range lines: not a match.
        let r = get(
            &s,
            "digits-1.txt",
            &[
                ("Range", "bytes=0-4"),
                ("If-Range", &tag),
                ("If-Range", &tag),
            ],
        );
        assert_whole(r, "two If-Range fields");
        // An If-Range without a Range changes nothing.
        let r = get(&s, "digits-1.txt", &[("If-Range", "\"other\"")]);
        assert_whole(r, "If-Range alone");
    }

    #[test]
    fn conditional_get_gives_304_before_ranges() {
        let s = Store::new("304");
        let tag = etag_of(DIGITS.len());
        for fields in [
            vec![("If-None-Match", tag.as_str())],
            vec![("If-None-Match", tag.as_str()), ("Range", "bytes=0-4")],
            vec![("If-None-Match", "*"), ("Range", "bytes=99-")],
            vec![("If-Modified-Since", LAST_MODIFIED), ("Range", "bytes=0-4")],
        ] {
            let r = get(&s, "digits-1.txt", &fields);
            assert_eq!(r.head.status, 304, "{fields:?}");
            assert!(matches!(r.body, Body::Empty));
            assert!(r.head.content_type.is_none());
            assert_eq!(header(&r, "ETag"), Some(tag.as_str()));
            assert_eq!(header(&r, "Last-Modified"), Some(LAST_MODIFIED));
            assert_eq!(header(&r, "Content-Range"), None);
        }
        let r = get(&s, "digits-1.txt", &[("If-None-Match", "\"other\"")]);
        assert_whole(r, "If-None-Match miss");
    }

    /// Never a file's bytes, whatever the status.
    fn refused(s: &Store, raw_name: &str, status: u16) {
        let r = get(s, raw_name, &[("Range", "bytes=0-")]);
        assert_eq!(r.head.status, status, "{raw_name:?}");
        assert!(!matches!(r.body, Body::File { .. }), "{raw_name:?}");
        let body = body_bytes(r);
        assert!(
            !body.windows(SECRET.len()).any(|w| w == SECRET),
            "{raw_name:?}"
        );
    }

    #[test]
    fn escapes_are_never_served() {
        let s = Store::new("escape");
        for raw in [
            "..",
            "%2e%2e",
            "%2E%2E",
            ".%2e",
            ".",
            "%2e",
            "",
            "../secret.txt",
            "%2e%2e/secret.txt",
            "..%5csecret.txt",
            "a/b",
            "a%5cb",
            "a\\b",
            "a",
            "a/",
            "/secret.txt",
            "digits-1.txt/",
            "./digits-1.txt",
            ".tmp-1-2",
            "%2etmp-1-2",
            "nope.png",
            &"a".repeat(300),
        ] {
            refused(&s, raw, 404);
        }
        for raw in [
            "%00",
            "digits-1.txt%00",
            "%00/../secret.txt",
            "digits%0a-1.txt",
            "digits%7f-1.txt",
            "digits-1.txt%",
            "digits-1.txt%4",
            "%zz",
            // Refused by the router's decoding: an encoded `/`, not UTF-8.
            "%2e%2e%2fsecret.txt",
            "a%2fb",
            "a%2Fb",
            "%ff.txt",
        ] {
            refused(&s, raw, 400);
        }
    }
}
