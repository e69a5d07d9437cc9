//! `/echo`: the request, taken apart, as JSON (SPEC "`/echo`").
//!
//! ```json
//! {"method": "POST", "target": "/echo?a=1&a=2", "path": "/echo", "version": "HTTP/1.1",
//!  "query": {"a": ["1", "2"]}, "headers": [["Host", "127.0.0.1:8000"]],
//!  "cookies": {"name": "value"}, "form": {"field": ["value"]}, "files": [],
//!  "body_bytes": 0, "chunked": false}
//! ```
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
use crate::app::view::{shown_cookie, shown_cookie_field};
use crate::http::cookie::parse_cookie_header;
use crate::http::head::RequestHead;
use crate::http::multipart::{
    self, MultipartLimits, MultipartStream, PartHeaders, Piece, StreamError,
};
use crate::http::query::{MAX_FIELDS, MultiMap, parse_urlencoded, parse_urlencoded_limited};
use serde_json::{Map, Value, json};
use std::convert::Infallible;

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
            }),
            limit,
        },
        Err(_) => BodyPolicy::Buffer { limit },
    }
}

/// `/echo` for a buffered body: an urlencoded form is decoded, anything else counted.
pub(crate) fn echo(req: &Request<'_>) -> Response {
    let form = if is_urlencoded(req.header("content-type")) {
        // At most 1000 fields, like Django's DATA_UPLOAD_MAX_NUMBER_FIELDS.
        match parse_urlencoded_limited(req.body, MAX_FIELDS) {
            Ok(f) => f,
            Err(e) => return Response::text_error(400, &e.to_string()),
        }
    } else {
        MultiMap::new()
    };
    respond(req, &form, Vec::new(), req.body.len() as u64)
}

/// The JSON document of the SPEC.
fn respond(req: &Request<'_>, form: &MultiMap, files: Vec<Value>, body_bytes: u64) -> Response {
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
    let doc = json!({
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
    });
    let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    body.push(b'\n');
    Response::new(200, "application/json", Body::Bytes(body))
}

/// A multipart body for `/echo`, parsed as it arrives.
pub(crate) struct EchoSink {
    stream: MultipartStream,
    parts: EchoParts,
    body_bytes: u64,
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
        respond(req, &self.parts.form, self.parts.files, self.body_bytes).into()
    }
}
