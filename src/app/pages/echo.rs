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

use crate::app::{Body, Request, Response};
use crate::http::cookie::parse_cookie_header;
use crate::http::multipart::{self, MultipartError, MultipartLimits, MultipartParser};
use crate::http::query::{MAX_FIELDS, MultiMap, parse_urlencoded, parse_urlencoded_limited};
use serde_json::{Map, Value, json};

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

pub fn echo(req: &Request<'_>) -> Response {
    let head = &req.head;
    let query = parse_urlencoded(head.query().unwrap_or("").as_bytes());
    let headers: Vec<Value> = head
        .headers()
        .map(|(n, v)| json!([n, String::from_utf8_lossy(v)]))
        .collect();
    // Every Cookie field counts (HTTP/2 gateways split them); the first of a repeated
    // name wins.
    let mut cookies = Map::new();
    for (name, value) in head.headers() {
        if name.eq_ignore_ascii_case("cookie") {
            for (k, v) in parse_cookie_header(value) {
                cookies.entry(k).or_insert(Value::String(v));
            }
        }
    }
    let content_type = req.header("content-type");
    let mut files = Vec::new();
    let form = if is_urlencoded(content_type) {
        // At most 1000 fields, like Django's DATA_UPLOAD_MAX_NUMBER_FIELDS.
        match parse_urlencoded_limited(req.body, MAX_FIELDS) {
            Ok(f) => f,
            Err(e) => return Response::text_error(400, &e.to_string()),
        }
    } else if let Ok(boundary) = multipart::boundary_from_content_type(content_type.unwrap_or(b""))
    {
        match parse_multipart(&boundary, req.body, &mut files) {
            Ok(f) => f,
            Err(e) => return Response::text_error(e.status(), &e.to_string()),
        }
    } else {
        MultiMap::new()
    };
    let doc = json!({
        "method": head.method_str(),
        "target": head.target(),
        "path": head.path(),
        "version": head.version.as_str(),
        "query": grouped(&query),
        "headers": headers,
        "cookies": cookies,
        "form": grouped(&form),
        "files": files,
        "body_bytes": req.body.len(),
        "chunked": req.chunked,
    });
    let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    body.push(b'\n');
    Response::new(200, "application/json", Body::Bytes(body))
}

/// A part of a multipart body as `/echo` reports it.
struct EchoPart {
    name: String,
    /// Filename and content type, for a file part.
    file: Option<(String, Option<String>)>,
    /// A text field's value.
    text: Vec<u8>,
    size: u64,
}

/// Text fields into a multi-map; file parts (those with a `filename`) into `files`.
fn parse_multipart(
    boundary: &[u8],
    body: &[u8],
    files: &mut Vec<Value>,
) -> Result<MultiMap, MultipartError> {
    let mut parser = MultipartParser::new(boundary, MultipartLimits::default());
    let mut form = MultiMap::new();
    let mut pos = 0;
    let mut part: Option<EchoPart> = None;
    loop {
        let step = parser.feed(&body[pos..])?;
        let start = pos;
        pos += step.consumed;
        match step.event {
            multipart::Event::PartBegin(h) => {
                part = Some(EchoPart {
                    name: h.name,
                    file: h.filename.map(|f| (f, h.content_type)),
                    text: Vec::new(),
                    size: 0,
                });
            }
            multipart::Event::PartData(r) => {
                if let Some(p) = &mut part {
                    p.size += r.len() as u64;
                    if p.file.is_none() {
                        p.text
                            .extend_from_slice(&body[start + r.start..start + r.end]);
                    }
                }
            }
            multipart::Event::PartEnd => match part.take() {
                Some(EchoPart {
                    name,
                    file: Some((filename, ct)),
                    size,
                    ..
                }) => files.push(json!({
                    "field": name, "filename": filename, "content_type": ct, "size": size
                })),
                Some(EchoPart {
                    name,
                    file: None,
                    text,
                    ..
                }) => form.push(name, String::from_utf8_lossy(&text).into_owned()),
                None => {}
            },
            multipart::Event::End => return Ok(form),
            multipart::Event::NeedData => {
                parser.finish()?;
                return Ok(form);
            }
        }
    }
}
