//! Serving one file from disk, shared by `/static/` ([`crate::app::pages::static_files`])
//! and `/uploads/` ([`crate::app::pages::uploads`]); the pages keep only what differs
//! (where the file lives, which names are allowed, `Content-Disposition` for uploads).
//!
//! Theory of operation: a page finds the path and opens it with [`open_inside`] or
//! [`open_no_follow`], which never follow a symbolic link (SPEC "Security and
//! bounds"), then hands the outcome to [`respond`], which does the rest the way nginx
//! does for a static file:
//!
//! - an open that failed: 404 (absent, not a regular file, a symlink, a file used as a
//!   directory, a name too long), 403 (not readable), 500 (other I/O errors);
//! - validators from the *opened* file's metadata
//!   ([`Validators::of_file`]: `ETag: "<mtime hex>-<len hex>"`, `Last-Modified`);
//! - conditional GET ([`conditional::not_modified`]) → 304 with `ETag` and
//!   `Last-Modified`, no `Content-Type`, no body;
//! - then `If-Range` and `Range` ([`range::requested`]) → 206 with `Content-Range`, 416
//!   with `Content-Range: bytes */len`, or 200 with the whole file; every 200/206/416
//!   says `Accept-Ranges: bytes`;
//! - the body is [`Body::File`], positioned at the first byte to send; the I/O layer
//!   reads a small one behind the head, sends a large one with `sendfile(2)`, and
//!   writes the head only for `HEAD`.
//!
//! A small file kept in memory by `/static/` ([`crate::app::file_cache`]) is answered
//! by [`respond_cached`] through the same steps, with a [`Body::Shared`] and its
//! validators encoded once ([`crate::http::response::ResponseHead::encoded`]).

use crate::app::file_cache::Entry;
use crate::app::{Body, Request, Response};
use crate::http::Problem;
use crate::http::conditional::{self, Validators};
use crate::http::date::imf_fixdate;
use crate::http::range::{self, ByteRange};
use crate::http::response::ResponseHead;
use std::fs::{File, Metadata};
use std::io::{self, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// Renders a refusal in the client's format (the page passes [`App::problem_for`];
/// unit tests plain text).
///
/// [`App::problem_for`]: crate::app::App::problem_for
pub(crate) type Render<'a> = &'a dyn Fn(Problem) -> Response;

/// What the messages of a file page call the file, where it was asked for, and how
/// its refusals are rendered.
pub(crate) struct Place<'a> {
    /// `"file"` or `"upload"`: "no upload at …", "this file may not be read".
    pub noun: &'static str,
    /// The path asked for, as sent, in two parts: the page's prefix (`/static/`)
    /// and the rest (`hello.txt`), joined only for a message (a hit formats nothing).
    pub prefix: &'static str,
    pub rest: &'a str,
    pub render: Render<'a>,
}

impl Place<'_> {
    pub(crate) fn not_found(&self) -> Response {
        self.refuse(
            404,
            format!("no {} at {}{}", self.noun, self.prefix, self.rest),
        )
    }

    pub(crate) fn refuse(&self, status: u16, message: String) -> Response {
        (self.render)(Problem::new(status, message))
    }
}

/// The answer for a file a page opened (or failed to): see the module docs.
/// `content` adds the page's own fields to a 200 or 206 (not to a 304 or an error).
pub(crate) fn respond(
    req: &Request<'_>,
    opened: io::Result<Option<(File, Metadata)>>,
    place: &Place<'_>,
    content_type: &'static str,
    content: impl FnOnce(Response) -> Response,
) -> Response {
    let noun = place.noun;
    let (mut file, meta) = match opened {
        Ok(Some(found)) => found,
        Ok(None) => return place.not_found(),
        // ENOTDIR: a file used as a directory (`hello.txt/more`); ENAMETOOLONG; a
        // file deleted between the look-up and the open.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::NotADirectory
                    | io::ErrorKind::InvalidFilename
            ) =>
        {
            return place.not_found();
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return place.refuse(403, format!("this {noun} may not be read"));
        }
        Err(e) => {
            log::warn!("{noun} {}{}: {e}", place.prefix, place.rest);
            return place.refuse(500, format!("could not read the {noun}"));
        }
    };

    let len = meta.len();
    let v = Validators::of_file(mtime_secs(&meta), len);
    let last_modified = last_modified(&v);
    answer(
        req,
        &v,
        Fields::Strings(&last_modified),
        len,
        place,
        content_type,
        content,
        |first, n| {
            if first > 0
                && let Err(e) = file.seek(SeekFrom::Start(first))
            {
                log::warn!(
                    "{noun} {}{}: seek to {first}: {e}",
                    place.prefix,
                    place.rest
                );
                return Err(place.refuse(500, format!("could not read the {noun}")));
            }
            Ok(Body::File { file, len: n })
        },
    )
}

/// `Last-Modified` for these validators.
pub(crate) fn last_modified(v: &Validators) -> String {
    String::from_utf8_lossy(&imf_fixdate(v.mtime)).into_owned()
}

/// The answer for a small file kept in memory ([`crate::app::file_cache`]): as
/// [`respond`] gives for the file on disk, the body shared with the cache.
pub(crate) fn respond_cached(req: &Request<'_>, e: &Entry, place: &Place<'_>) -> Response {
    let len = e.bytes.len() as u64;
    answer(
        req,
        &e.validators,
        Fields::Encoded {
            ok: &e.fields,
            not_modified: &e.fields_304,
        },
        len,
        place,
        e.content_type,
        |r| r,
        |first, n| {
            Ok(Body::Shared {
                bytes: e.bytes.clone(),
                start: first as u32,
                len: n as u32,
            })
        },
    )
}

/// How a file's `ETag`, `Last-Modified` and `Accept-Ranges` are given.
enum Fields<'a> {
    /// Formatted for this response (`Last-Modified` given; the `ETag` is the
    /// validators').
    Strings(&'a str),
    /// Encoded once for the cached file (a hit formats nothing).
    Encoded {
        ok: &'a Arc<Vec<u8>>,
        not_modified: &'a Arc<Vec<u8>>,
    },
}

/// Conditional GET, `If-Range` and `Range` for a file of `len` bytes with these
/// validators; `body(first, n)` gives the body of `n` bytes from `first`.
#[allow(clippy::too_many_arguments)]
fn answer(
    req: &Request<'_>,
    v: &Validators,
    fields: Fields<'_>,
    len: u64,
    place: &Place<'_>,
    content_type: &'static str,
    content: impl FnOnce(Response) -> Response,
    body: impl FnOnce(u64, u64) -> Result<Body, Response>,
) -> Response {
    let noun = place.noun;
    if conditional::not_modified(&req.head, v) {
        let mut head = ResponseHead::new(304);
        match fields {
            Fields::Strings(last_modified) => {
                head.header("ETag", v.etag.clone());
                head.header("Last-Modified", last_modified.to_owned());
            }
            Fields::Encoded { not_modified, .. } => head.encoded = Some(not_modified.clone()),
        }
        return Response {
            head,
            body: Body::Empty,
            recorded: true,
        };
    }

    let range = if conditional::if_range_allows(&req.head, v) {
        range::requested(&req.head, len)
    } else {
        ByteRange::Whole
    };
    let (status, body) = match range {
        ByteRange::Whole => (200, body(0, len)),
        ByteRange::Slice { first, last } => (206, body(first, last - first + 1)),
        ByteRange::Unsatisfiable => {
            let message = format!("the range selects no byte of this {noun} ({len} bytes)");
            return place
                .refuse(416, message)
                .header("Content-Range", format!("bytes */{len}"))
                .header("Accept-Ranges", "bytes");
        }
    };
    let body = match body {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let mut r = Response::new(status, content_type, body);
    if let Some(content_range) = range.content_range(len) {
        r = r.header("Content-Range", content_range);
    }
    let r = match fields {
        Fields::Strings(last_modified) => r
            .header("ETag", v.etag.clone())
            .header("Last-Modified", last_modified.to_owned())
            .header("Accept-Ranges", "bytes"),
        Fields::Encoded { ok, .. } => {
            let mut r = r;
            r.head.encoded = Some(ok.clone());
            r
        }
    };
    content(r)
}

/// Open `relative` under `dir` if it is a regular file reached without any
/// symbolic link. `Ok(None)`: it exists but is not ours to serve.
///
/// SPEC "Security and bounds": no symlink is followed, even one that stays inside
/// (a link planted in a served directory is how a file from elsewhere gets served).
/// `relative` has no `.`/`..` segments (the caller refused them), so only a symlink
/// could lead out. Each segment is `lstat`ed (one for `hello.html`) and a symlink
/// anywhere is a 404; the last one is then opened with `O_NOFOLLOW`
/// ([`open_no_follow`]), so a link swapped in after the check is refused too. `dir`
/// itself is canonical (the app canonicalizes it once at start).
pub(crate) fn open_inside(dir: &Path, relative: &Path) -> io::Result<Option<(File, Metadata)>> {
    let mut full = dir.to_path_buf();
    let mut last = None;
    for part in relative.components() {
        full.push(part);
        let m = std::fs::symlink_metadata(&full)?;
        if m.file_type().is_symlink() {
            return Ok(None);
        }
        last = Some(m);
    }
    // Check before opening: opening a FIFO would block the worker until a writer came.
    if !last.is_some_and(|m| m.is_file()) {
        return Ok(None);
    }
    open_no_follow(&full)
}

/// Open a regular file for reading, refusing a symbolic link as the last component
/// (`O_NOFOLLOW`: the kernel answers `ELOOP`, which is `Ok(None)` here, as for any
/// file that is not ours to serve). The length and validators come from the file
/// opened, not from the name.
pub(crate) fn open_no_follow(path: &Path) -> io::Result<Option<(File, Metadata)>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    Ok(meta.is_file().then_some((file, meta)))
}

/// Modification time in whole seconds since the epoch (0 for earlier or unknown times).
pub(crate) fn mtime_secs(meta: &Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// `Content-Type` by file extension (ASCII case-insensitive); text types say UTF-8.
pub(crate) fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        // RFC 9239 makes text/javascript the one to use.
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        // RFC 8259 §11: application/json has no charset parameter; it is UTF-8.
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            ("a.html", "text/html; charset=utf-8"),
            ("a.json", "application/json"),
            ("a.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.JPEG", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.ico", "image/x-icon"),
            ("a.woff2", "font/woff2"),
            ("a.pdf", "application/pdf"),
            ("a.wasm", "application/wasm"),
            ("a.bin", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
        ];
        for (name, ct) in cases {
            assert_eq!(content_type(Path::new(name)), ct, "{name}");
        }
    }
}
