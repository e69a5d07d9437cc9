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
//! `form` is filled from `application/x-www-form-urlencoded` bodies; other bodies are
//! only counted. Multipart bodies (`files`) arrive with the uploads issue.

use crate::app::{Body, Request, Response};
use crate::http::cookie::parse_cookie_header;
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
    let form = if is_urlencoded(req.header("content-type")) {
        // At most 1000 fields, like Django's DATA_UPLOAD_MAX_NUMBER_FIELDS.
        match parse_urlencoded_limited(req.body, MAX_FIELDS) {
            Ok(f) => f,
            Err(e) => return Response::text_error(400, &e.to_string()),
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
        "files": [],
        "body_bytes": req.body.len(),
        "chunked": req.chunked,
    });
    let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    body.push(b'\n');
    Response::new(200, "application/json", Body::Bytes(body))
}
