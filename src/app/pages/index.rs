//! `/`: a plain index for now, linking every page that exists.

use crate::app::{Body, Response};

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>wirepost</title></head>
<body>
<h1>wirepost</h1>
<p>An HTTP/1.1 server written from raw sockets. Every byte can be seen: try
<code>nc -C 127.0.0.1 8000</code> and type <code>GET /plaintext HTTP/1.1</code>,
<code>Host: x</code> and an empty line.</p>
<ul>
<li><a href="/plaintext">/plaintext</a>: <code>Hello, World!</code> as text/plain</li>
<li><a href="/json">/json</a>: a JSON message</li>
<li><a href="/echo?name=Ada&amp;lang=en&amp;lang=fr">/echo</a>: your request, taken apart, as JSON</li>
<li><a href="/static/hello.html">/static/hello.html</a>: a static file with ETag and Last-Modified</li>
</ul>
</body>
</html>
"#;

pub fn index() -> Response {
    Response::new(
        200,
        "text/html; charset=utf-8",
        Body::Static(INDEX.as_bytes()),
    )
}
