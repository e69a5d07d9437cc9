//! `/`: the index. One section per chapter of the course, each linking its pages and
//! naming its `docs/` page (the docs are read in the repository, not served), as HTML
//! (`index.html`) or as the same data in JSON.

use crate::app::App;
use crate::app::exchange::{Request, Response};
use crate::app::view::{self, Vary, respond};
use serde_json::{Value, json};

/// One link of a chapter: path, title, what it shows.
struct Link {
    href: &'static str,
    title: &'static str,
    about: &'static str,
}

/// A small form on the index, to try a method without typing a request.
struct TryForm {
    method: &'static str,
    action: &'static str,
    label: &'static str,
}

struct Chapter {
    id: &'static str,
    title: &'static str,
    about: &'static str,
    pages: &'static [Link],
    docs: &'static str,
    forms: &'static [TryForm],
}

/// The introduction; `{nc}` is this site's `host port` ([`view::site`]).
const INTRO: &str = "An HTTP/1.1 server written from raw sockets. Every byte can be seen: \
run nc -C {nc} and type GET /plaintext HTTP/1.1, Host: x and an empty line.";

const CHAPTERS: &[Chapter] = &[
    Chapter {
        id: "get-post",
        title: "GET vs POST",
        about: "A GET carries its data in the URL's query string; a POST carries it in the \
                body. The echo page takes either apart and shows what arrived.",
        pages: &[Link {
            href: "/echo?name=Ada&lang=en&lang=fr",
            title: "Echo",
            about: "your own request taken apart: method, target, query, headers, cookies, body",
        }],
        docs: "docs/forms-and-uploads.md",
        forms: &[
            TryForm {
                method: "get",
                action: "/echo",
                label: "Send with GET",
            },
            TryForm {
                method: "post",
                action: "/echo",
                label: "Send with POST",
            },
        ],
    },
    Chapter {
        id: "registration",
        title: "Registration and redirect",
        about: "A form posts a username and a password; the server stores a password hash \
                and answers 302 Found, so a reload repeats a harmless GET (post/redirect/get).",
        pages: &[
            Link {
                href: "/user/register/",
                title: "Register",
                about: "create an account; a taken name gets 409",
            },
            Link {
                href: "/user/login/",
                title: "Log in",
                about: "with or without \"remember me\" (a cookie that outlives the browser)",
            },
            Link {
                href: "/user/",
                title: "Who am I",
                about: "who is logged in, from the session",
            },
        ],
        docs: "docs/registration.md",
        forms: &[],
    },
    Chapter {
        id: "upload",
        title: "Uploading files",
        about: "A multipart/form-data body, parsed as it arrives, files streamed to disk.",
        pages: &[Link {
            href: "/upload/",
            title: "Upload",
            about: "send a file and open the stored copy",
        }],
        docs: "docs/forms-and-uploads.md",
        forms: &[],
    },
    Chapter {
        id: "cookies",
        title: "Cookies",
        about: "The server asks with Set-Cookie; the browser sends the cookie back with every \
                request that matches its path and domain, until it expires.",
        pages: &[
            Link {
                href: "/cookies/",
                title: "Cookie lab",
                about: "set a cookie with any attribute and see where it is sent back",
            },
            Link {
                href: "/products/",
                title: "Products",
                about: "each product page you view is remembered in a history cookie",
            },
            Link {
                href: "/history/",
                title: "History",
                about: "the products you viewed, newest first, read from that cookie",
            },
        ],
        docs: "docs/cookies.md",
        forms: &[],
    },
    Chapter {
        id: "sessions",
        title: "Sessions",
        about: "The browser holds a random session id; the server holds the data, durably.",
        pages: &[
            Link {
                href: "/session/",
                title: "Session inspector",
                about: "see and change what the server keeps for this browser",
            },
            Link {
                href: "/cart/",
                title: "Cart",
                about: "a cart in the session: survives a server restart",
            },
        ],
        docs: "docs/sessions.md",
        forms: &[],
    },
    Chapter {
        id: "protocol",
        title: "The protocol",
        about: "Requests and responses byte by byte: status lines, headers, bodies, \
                keep-alive, pipelining and errors.",
        pages: &[
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
                href: "/echo",
                title: "Echo",
                about: "the request inspector, as JSON",
            },
            Link {
                href: "/static/hello.html",
                title: "A static page",
                about: "a file with ETag and Last-Modified; ask again with If-None-Match for a 304",
            },
        ],
        docs: "docs/protocol.md",
        forms: &[],
    },
];

fn data(nc: &str) -> Value {
    let chapters: Vec<Value> = CHAPTERS
        .iter()
        .map(|c| {
            let pages: Vec<Value> = c
                .pages
                .iter()
                .map(|l| json!({"href": l.href, "title": l.title, "about": l.about}))
                .collect();
            let forms: Vec<Value> = c
                .forms
                .iter()
                .map(|f| json!({"method": f.method, "action": f.action, "label": f.label}))
                .collect();
            json!({"id": c.id, "title": c.title, "about": c.about, "pages": pages,
                   "docs": c.docs, "forms": forms})
        })
        .collect();
    json!({"name": "wirepost", "about": INTRO.replace("{nc}", nc), "chapters": chapters})
}

pub(crate) fn index(app: &App, req: &Request<'_>) -> Response {
    let site = view::site(app, req);
    let nc = site["nc"].as_str().unwrap_or_default();
    respond(app, req, 200, "index.html", &data(nc), Vary::Accept)
}
