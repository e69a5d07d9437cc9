//! `/`: the index, linking every page that exists, as HTML or JSON.

use crate::app::negotiate::{Format, format};
use crate::app::{Body, Request, Response};

/// One link of the index: path, title, what it shows.
struct Link {
    href: &'static str,
    title: &'static str,
    about: &'static str,
}

const LINKS: &[Link] = &[
    Link {
        href: "/plaintext",
        title: "Plain text",
        about: "Hello, World! as text/plain: the smallest response there is",
    },
    Link {
        href: "/json",
        title: "JSON",
        about: "a JSON message, serialized per request",
    },
    Link {
        href: "/echo?name=Ada&lang=en&lang=fr",
        title: "Echo",
        about: "your own request taken apart: method, target, query, headers, cookies, body",
    },
    Link {
        href: "/static/hello.html",
        title: "A static page",
        about: "a file with ETag and Last-Modified; ask again with If-None-Match for a 304",
    },
];

const INTRO: &str = "An HTTP/1.1 server written from raw sockets. Every byte can be seen: \
run nc -C 127.0.0.1 8000 and type GET /plaintext HTTP/1.1, Host: x and an empty line.";

fn html() -> Vec<u8> {
    let mut s = String::from(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<title>wirepost</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n<body>\n\
<h1>wirepost</h1>\n<p>An HTTP/1.1 server written from raw sockets. Every byte can be \
seen: try <code>nc -C 127.0.0.1 8000</code> and type <code>GET /plaintext HTTP/1.1</code>, \
<code>Host: x</code> and an empty line.</p>\n<ul>\n",
    );
    for l in LINKS {
        // The strings are ours and hold no markup but `&`, escaped here.
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a>: {}</li>\n",
            l.href.replace('&', "&amp;"),
            l.title,
            l.about
        ));
    }
    s.push_str(
        "</ul>\n<p>How it works: <code>docs/protocol.md</code> \
in the source tree explains every byte of these exchanges.</p>\n</body>\n</html>\n",
    );
    s.into_bytes()
}

pub fn index(req: &Request<'_>) -> Response {
    match format(req.header("accept")) {
        Format::Html => Response::new(200, "text/html; charset=utf-8", Body::Bytes(html())),
        Format::Json => {
            let links: Vec<serde_json::Value> = LINKS
                .iter()
                .map(|l| serde_json::json!({"href": l.href, "title": l.title, "about": l.about}))
                .collect();
            let doc = serde_json::json!({"name": "wirepost", "about": INTRO, "links": links});
            let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
            body.push(b'\n');
            Response::new(200, "application/json", Body::Bytes(body))
        }
    }
    .header("Vary", "Accept")
}
