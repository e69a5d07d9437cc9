//! `/echo`: the request, taken apart, as JSON (SPEC "`/echo`").
//!
//! ```json
//! {"method": "POST", "target": "/echo?a=1&a=2", "path": "/echo", "version": "HTTP/1.1",
//!  "query": {"a": ["1", "2"]}, "headers": [["Host", "127.0.0.1:8000"]],
//!  "cookies": {"name": "value"}, "form": {"field": ["value"]}, "files": [],
//!  "body_bytes": 0, "chunked": false,
//!  "raw_head": "POST /echo?a=1&a=2 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
//!  "body_text": null, "json": null, "remote": "127.0.0.1:54321"}
//! ```
//!
//! `raw_head` is the head's bytes as received (a `sessionid` in a `Cookie` line cut
//! like everywhere else); `body_text` the body's first 64 KiB when they are UTF-8 (null
//! for no body, a binary one, or a multipart body with a file part); `json` the body
//! parsed when the `Content-Type` is `application/json` (null, and `json_error` with
//! the parser's message, if it does not parse). A browser (`Accept` naming
//! `text/html` above `text/plain`, as for error pages) gets it all as `echo.html`;
//! curl's `*/*` and no `Accept` get JSON.
//!
//! Header values that are not UTF-8 (obs-text) are shown with U+FFFD in their place.
//! `form` is filled from `application/x-www-form-urlencoded` bodies and from the
//! text fields of `multipart/form-data` bodies, whose file parts are listed in `files`
//! with their size (not stored); other bodies are only counted.
//!
//! A multipart body is parsed as it arrives ([`EchoSink`]), a slice per turn of the
//! event loop, and refused the moment it goes wrong (the 1001st part, a bad header):
//! parsed whole after the last byte, a body of 1000 tiny parts held the loop ~0.5 ms
//! in one go. Every other body is buffered and looked at once complete.

use crate::app::App;
use crate::app::exchange::{Body, BodyPolicy, BodySink, Reply, Request, Response};
use crate::app::templates::Templates;
use crate::app::view::{html, shown_cookie, shown_cookie_field};
use crate::http::accept::{ErrorFormat, error_format};
use crate::http::cookie::parse_cookie_header;
use crate::http::head::RequestHead;
use crate::http::multipart::{
    self, MultipartLimits, MultipartStream, PartHeaders, Piece, StreamError,
};
use crate::http::query::{MAX_FIELDS, MultiMap, parse_urlencoded, parse_urlencoded_limited};
use serde_json::{Map, Value, json};
use std::convert::Infallible;
use std::sync::Arc;

/// How much of the body `body_text` shows.
pub(crate) const BODY_TEXT_MAX: usize = 64 * 1024;

fn grouped(map: &MultiMap) -> Value {
    let mut obj = Map::new();
    for (k, vs) in map.grouped() {
        obj.insert(k.to_owned(), json!(vs));
    }
    Value::Object(obj)
}

fn is_urlencoded(content_type: Option<&[u8]>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let essence = ct.split(|&b| b == b';').next().unwrap_or(b"");
    essence
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

/// How `/echo` takes its body: a multipart body streamed into an [`EchoSink`], any
/// other buffered; both up to `--max-body`.
pub(crate) fn body_policy(app: &App, head: &RequestHead<'_>) -> BodyPolicy {
    let limit = app.config.max_body;
    let content_type = head.header("content-type").unwrap_or(b"");
    match multipart::boundary_from_content_type(content_type) {
        Ok(boundary) => BodyPolicy::Stream {
            sink: Box::new(EchoSink {
                stream: MultipartStream::new(&boundary, MultipartLimits::default()),
                parts: EchoParts::default(),
                body_bytes: 0,
                start: Vec::new(),
                templates: Arc::clone(&app.templates),
            }),
            limit,
        },
        Err(_) => BodyPolicy::Buffer { limit },
    }
}

/// `/echo` for a buffered body: an urlencoded form is decoded, anything else counted.
pub(crate) fn echo(app: &App, req: &Request<'_>) -> Response {
    let form = if is_urlencoded(req.header("content-type")) {
        // At most 1000 fields, like Django's DATA_UPLOAD_MAX_NUMBER_FIELDS.
        match parse_urlencoded_limited(req.body, MAX_FIELDS) {
            Ok(f) => f,
            Err(e) => return Response::text_error(400, &e.to_string()),
        }
    } else {
        MultiMap::new()
    };
    let text = body_text(&req.body[..req.body.len().min(BODY_TEXT_MAX)]);
    respond(
        &app.templates,
        req,
        Taken {
            form: &form,
            files: Vec::new(),
            body_bytes: req.body.len() as u64,
            body_text: text,
            body: Some(req.body),
        },
    )
}

/// The body's start as text, if it is UTF-8 (a character cut at the end by the
/// 64 KiB limit is left out); `None` for an empty body.
fn body_text(start: &[u8]) -> Option<String> {
    if start.is_empty() {
        return None;
    }
    match std::str::from_utf8(start) {
        Ok(s) => Some(s.to_owned()),
        // Incomplete at the very end (`error_len` None): only the cut split a character.
        Err(e) if e.error_len().is_none() && start.len() == BODY_TEXT_MAX => {
            Some(String::from_utf8_lossy(&start[..e.valid_up_to()]).into_owned())
        }
        Err(_) => None,
    }
}

/// The head's bytes as received, but each `Cookie` line's `sessionid` cut
/// ([`shown_cookie_field`]).
fn raw_head(head: &RequestHead<'_>) -> String {
    let buf = head.buf;
    let mut out = Vec::with_capacity(buf.len());
    let mut at = 0;
    for h in head.headers {
        let name = h.name.of(buf);
        if name.eq_ignore_ascii_case(b"cookie") {
            let (s, e) = (h.value.start as usize, h.value.end as usize);
            out.extend_from_slice(&buf[at..s]);
            let shown = shown_cookie_field(&String::from_utf8_lossy(&buf[s..e]));
            out.extend_from_slice(shown.as_bytes());
            at = e;
        }
    }
    out.extend_from_slice(&buf[at..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn is_json(content_type: Option<&[u8]>) -> bool {
    content_type
        .and_then(|ct| ct.split(|&b| b == b';').next())
        .is_some_and(|e| e.trim_ascii().eq_ignore_ascii_case(b"application/json"))
}

/// What the body gave, however it was taken.
struct Taken<'a> {
    form: &'a MultiMap,
    files: Vec<Value>,
    body_bytes: u64,
    body_text: Option<String>,
    /// The whole body, when it was buffered.
    body: Option<&'a [u8]>,
}

/// The JSON document of the SPEC, or for a browser the page of it.
fn respond(templates: &Templates, req: &Request<'_>, taken: Taken<'_>) -> Response {
    let Taken {
        form,
        files,
        body_bytes,
        body_text,
        body,
    } = taken;
    let head = &req.head;
    let query = parse_urlencoded(head.query().unwrap_or("").as_bytes());
    let headers: Vec<Value> = head
        .headers()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(v);
            if n.eq_ignore_ascii_case("cookie") {
                json!([n, shown_cookie_field(&v)])
            } else {
                json!([n, v])
            }
        })
        .collect();
    // Every Cookie field counts (HTTP/2 gateways split them); the first of a repeated
    // name wins.
    let mut cookies = Map::new();
    for (name, value) in head.headers() {
        if name.eq_ignore_ascii_case("cookie") {
            for (k, v) in parse_cookie_header(value) {
                let shown = shown_cookie(&k, &v);
                cookies.entry(k).or_insert(Value::String(shown));
            }
        }
    }
    let raw = raw_head(head);
    let mut doc = json!({
        "method": head.method_str(),
        "target": head.target(),
        "path": head.path(),
        "version": head.version.as_str(),
        "query": grouped(&query),
        "headers": headers,
        "cookies": cookies,
        "form": grouped(form),
        "files": files,
        "body_bytes": body_bytes,
        "chunked": req.chunked,
        "raw_head": raw,
        "body_text": body_text,
        "json": null,
        "remote": req.peer.map(|p| p.to_string()),
    });
    // Parsed: `json` holds the body (which may be `null` itself).
    let mut parsed = false;
    if let Some(body) = body.filter(|_| is_json(req.header("content-type"))) {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => {
                doc["json"] = v;
                parsed = true;
            }
            Err(e) => doc["json_error"] = json!(e.to_string()),
        }
    }
    let resp = if error_format(req.header("accept")) == ErrorFormat::Html {
        // The raw head with each CR and LF written out, the LF also kept as a break.
        let shown = crate::app::pages::wire::crlf_shown(&raw);
        let mut context = doc;
        context["raw_shown"] = json!(shown);
        context["json_shown"] = json!(parsed.then(|| context["json"].to_string()));
        html(templates, 200, "echo.html", &context)
    } else {
        let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        body.push(b'\n');
        Response::new(200, "application/json", Body::Bytes(body))
    };
    resp.header("Vary", "Accept")
}

/// A multipart body for `/echo`, parsed as it arrives.
pub(crate) struct EchoSink {
    stream: MultipartStream,
    parts: EchoParts,
    body_bytes: u64,
    /// The body's first [`BODY_TEXT_MAX`] bytes, for `body_text`.
    start: Vec<u8>,
    templates: Arc<Templates>,
}

/// Text fields and file sizes, part by part.
#[derive(Default)]
struct EchoParts {
    form: MultiMap,
    files: Vec<Value>,
    part: Option<EchoPart>,
}

/// The part being received.
struct EchoPart {
    name: String,
    /// Filename and content type, for a file part.
    file: Option<(String, Option<String>)>,
    /// A text field's value.
    text: Vec<u8>,
    size: u64,
}

impl EchoParts {
    fn begin(&mut self, h: PartHeaders) {
        self.part = Some(EchoPart {
            name: h.name,
            file: h.filename.map(|f| (f, h.content_type)),
            text: Vec::new(),
            size: 0,
        });
    }

    fn data(&mut self, data: &[u8]) {
        if let Some(p) = &mut self.part {
            p.size += data.len() as u64;
            if p.file.is_none() {
                p.text.extend_from_slice(data);
            }
        }
    }

    fn end(&mut self) {
        match self.part.take() {
            Some(EchoPart {
                name,
                file: Some((filename, ct)),
                size,
                ..
            }) => self.files.push(json!({
                "field": name, "filename": filename, "content_type": ct, "size": size
            })),
            Some(EchoPart {
                name,
                file: None,
                text,
                ..
            }) => self
                .form
                .push(name, String::from_utf8_lossy(&text).into_owned()),
            None => {}
        }
    }
}

impl BodySink for EchoSink {
    fn data(&mut self, bytes: &[u8]) -> Result<(), Response> {
        self.body_bytes += bytes.len() as u64;
        let room = BODY_TEXT_MAX - self.start.len();
        self.start
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        let parts = &mut self.parts;
        self.stream
            .push(bytes, |piece| {
                match piece {
                    Piece::Begin(h) => parts.begin(h),
                    Piece::Data(d) => parts.data(d),
                    Piece::End => parts.end(),
                }
                Ok::<(), Infallible>(())
            })
            .map_err(|e| match e {
                StreamError::Multipart(e) => Response::text_error(e.status(), &e.to_string()),
                StreamError::Handler(never) => match never {},
            })
    }

    fn finish(self: Box<Self>, req: &Request<'_>) -> Reply {
        if let Err(e) = self.stream.finish() {
            return Response::text_error(e.status(), &e.to_string()).into();
        }
        // A file part's bytes are not text to show (SPEC: `/echo` reports their size).
        let text = if self.parts.files.is_empty() {
            body_text(&self.start)
        } else {
            None
        };
        respond(
            &self.templates,
            req,
            Taken {
                form: &self.parts.form,
                files: self.parts.files,
                body_bytes: self.body_bytes,
                body_text: text,
                body: None,
            },
        )
        .into()
    }
}
