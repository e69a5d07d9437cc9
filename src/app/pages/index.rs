//! `/`: the index. One section per chapter of the course (in the order of
//! `docs/README.md`, read at each request like the docs), each linking its pages and
//! naming its `docs/` page (a link to it under `/docs/`), as HTML
//! (`index.html`) or as the same data in JSON.

use crate::app::App;
use crate::app::exchange::{Request, Response};
use crate::app::pages::docs;
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
        id: "wire",
        title: "Seeing the exchange",
        about: "Every request you send and every response head you get, byte for byte, as \
                the server read and wrote them: keep-alive and pipelining numbered, and an \
                \"On the wire\" panel at the end of every page.",
        pages: &[Link {
            href: "/wire/",
            title: "Wire log",
            about: "your recent exchanges, newest first, with every CR LF shown",
        }],
        docs: "docs/seeing-the-exchange.md",
        forms: &[],
    },
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
                href: "/parse/",
                title: "Parser playground",
                about: "raw bytes in, the parser's events at their byte offsets out (or its error, marked)",
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
    Chapter {
        id: "playground",
        title: "Playground",
        about: "The endpoints httpbin made famous, to try a client against: any status, a \
                chain of redirects, a slow answer, a chunked stream, a Basic-auth lock.",
        pages: &[
            Link {
                href: "/status/418",
                title: "Status",
                about: "any status code, with the fields it needs (Location, WWW-Authenticate)",
            },
            Link {
                href: "/redirect/3",
                title: "Redirects",
                about: "302 to /redirect/2, /1, /0: follow them with curl -L",
            },
            Link {
                href: "/delay/1",
                title: "Delay",
                about: "an answer after a second, without a thread held",
            },
            Link {
                href: "/stream/5",
                title: "Stream",
                about: "five JSON lines as a chunked response, one chunk each",
            },
            Link {
                href: "/basic-auth/ada/lovelace",
                title: "Basic auth",
                about: "401 until you give user ada, password lovelace",
            },
        ],
        docs: "docs/playground.md",
        forms: &[],
    },
];

/// The chapters in the course order of `docs/README.md` (by their docs page; chapters
/// on one page keep their order here), or in this table's order without the docs.
fn in_course_order(course: &[String]) -> Vec<&'static Chapter> {
    let mut chapters: Vec<&Chapter> = CHAPTERS.iter().collect();
    let rank = |c: &Chapter| {
        let page = c.docs.strip_prefix("docs/").unwrap_or(c.docs);
        let page = page.strip_suffix(".md").unwrap_or(page);
        course.iter().position(|p| p == page).unwrap_or(usize::MAX)
    };
    chapters.sort_by_key(|c| rank(c));
    chapters
}

fn data(course: &[String], nc: &str) -> Value {
    let chapters: Vec<Value> = in_course_order(course)
        .into_iter()
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
                   "docs": c.docs, "docs_href": docs_href(c.docs), "forms": forms})
        })
        .collect();
    json!({"name": "wirepost", "about": INTRO.replace("{nc}", nc), "chapters": chapters})
}

/// `docs/x.md` as the site serves it: `/docs/x`.
fn docs_href(file: &str) -> String {
    let page = file.strip_prefix("docs/").unwrap_or(file);
    format!("/docs/{}", page.strip_suffix(".md").unwrap_or(page))
}

pub(crate) fn index(app: &App, req: &Request<'_>) -> Response {
    let site = view::site(app, req);
    let nc = site["nc"].as_str().unwrap_or_default();
    let data = data(&docs::course_pages(app), nc);
    respond(app, req, 200, "index.html", &data, Vary::Accept)
}
