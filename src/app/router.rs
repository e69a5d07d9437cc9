//! Routing: from a path and method to a page, by one table, [`ROUTES`].
//!
//! The path is percent-decoded once first ([`pct::decode_path_bytes`]: `/products/%33/` is
//! `/products/3/`; a segment that decodes to `/`, NUL or non-UTF-8 is a 400). Each
//! [`Route`] is a [`Pattern`] (an exact path, a prefix, or `/products/<id>/`), the GET
//! handler, how POST takes its body (buffered up to `--max-body`, streamed to a sink,
//! or not at all) and its handler, or one handler for any method (`/echo`). The 405
//! and its `Allow` come from the same entry; `HEAD` is answered wherever `GET` is (the
//! I/O layer drops the body). Exact paths are compared first, in table order
//! (`/plaintext` is the first entry): no map, no allocation.

use crate::app::App;
use crate::app::exchange::{BodyPolicy, Lookup, Reply, Request, Response, Routed};
pub(crate) use crate::app::hosts::AllowedHosts;
use crate::app::hosts::host_name;
use crate::app::pages::{
    cart, cookie_lab, docs, echo, history, index, parse, plain, playground, products, session_lab,
    static_files, timed, upload, uploads, user, wire,
};
use crate::http::chars::same_bytes;
use crate::http::head::RequestHead;
use crate::http::pct::{self, PathError};
use crate::http::{Method, Problem};

/// A request with `Origin` (a browser's) whose `Host` is not allowed: 400, naming the
/// flag that would allow it. `None` for every other request.
fn rebinding_refusal(app: &App, head: &RequestHead<'_>) -> Option<Response> {
    head.header("origin")?;
    let host = head.header("host").unwrap_or(b"");
    if app.hosts.allows(host) {
        return None;
    }
    let name = String::from_utf8_lossy(host_name(host)).to_ascii_lowercase();
    let mut r = app.problem(
        &Problem::new(
            400,
            format!(
                "Host {:?} is not an allowed host for a browser request (a page whose name \
             was rebound to this server, DNS rebinding?); allowed are localhost, \
             127.0.0.1, [::1] and the listen address; start the server with \
             --allowed-host {name} to allow it",
                String::from_utf8_lossy(host)
            ),
        ),
        head.header("accept"),
    );
    r.head.close = true;
    Some(r)
}

/// A POST whose `Origin` names another origin than `http://` + its `Host` (or is
/// `null`) comes from another site's page: a cross-site request forgery. No `Origin`
/// at all (curl, nc, old browsers on same-origin forms) is allowed (SPEC).
pub(crate) fn cross_origin(head: &RequestHead<'_>) -> bool {
    let Some(origin) = head.header("origin") else {
        return false;
    };
    let host = head.header("host").unwrap_or(b"");
    let same = origin.len() == 7 + host.len()
        && origin[..7].eq_ignore_ascii_case(b"http://")
        && origin[7..].eq_ignore_ascii_case(host);
    !same
}

/// A GET (and HEAD) handler; the `&str` is the part of the decoded path after the
/// route's prefix (empty for exact routes).
pub(crate) type GetFn = fn(&App, &Request<'_>, &str) -> Response;
/// A handler that may answer later (a durable write, a password hash).
pub(crate) type ReplyFn = fn(&App, &Request<'_>, &str) -> Reply;
/// How a route takes a body, decided from the head.
pub(crate) type PolicyFn = fn(&App, &RequestHead<'_>) -> BodyPolicy;

/// Which paths a route takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pattern {
    /// This path only.
    Exact(&'static str),
    /// Every path that starts with this.
    Prefix(&'static str),
    /// This prefix, one segment and `/` (`/products/<id>/`); the segment without its
    /// `/` (`/products/3`) is redirected to the address with it.
    Segment(&'static str),
}

/// How a route takes POST.
#[derive(Clone, Copy)]
pub(crate) enum Post {
    /// Not at all: 405.
    None,
    /// The body read into memory (up to `--max-body`), then the handler.
    Buffered(ReplyFn),
    /// The body streamed to the sink the policy makes; the sink answers.
    Streamed(PolicyFn),
}

/// One entry of [`ROUTES`].
#[derive(Clone, Copy)]
pub(crate) struct Route {
    pub pattern: Pattern,
    pub get: Option<GetFn>,
    pub post: Post,
    /// Every method, with its own body policy (`/echo`); `get` and `post` unused.
    pub any: Option<(PolicyFn, ReplyFn)>,
}

const fn get(pattern: Pattern, get: GetFn) -> Route {
    Route {
        pattern,
        get: Some(get),
        post: Post::None,
        any: None,
    }
}

const fn get_post(pattern: Pattern, get: GetFn, post: ReplyFn) -> Route {
    Route {
        pattern,
        get: Some(get),
        post: Post::Buffered(post),
        any: None,
    }
}

const fn post(pattern: Pattern, post: ReplyFn) -> Route {
    Route {
        pattern,
        get: None,
        post: Post::Buffered(post),
        any: None,
    }
}

use Pattern::{Exact, Prefix, Segment};

/// Every page. Exact paths first (looked up in this order), then the patterns.
pub(crate) static ROUTES: &[Route] = &[
    get(Exact("/plaintext"), |_, _, _| plain::plaintext()),
    get(Exact("/json"), |_, _, _| plain::json()),
    get(Exact("/"), |app, req, _| index::index(app, req)),
    Route {
        pattern: Exact("/echo"),
        get: None,
        post: Post::None,
        any: Some((echo::body_policy, |app, req, _| echo::echo(app, req).into())),
    },
    get_post(
        Exact("/user/register/"),
        |app, req, _| user::register_form(app, req),
        |app, req, _| user::register(app, req),
    ),
    get_post(
        Exact("/user/login/"),
        |app, req, _| user::login_form(app, req),
        |app, req, _| user::login(app, req),
    ),
    post(Exact("/user/logout/"), |app, req, _| user::logout(app, req)),
    get(Exact("/user/"), |app, req, _| user::whoami(app, req)),
    get_post(
        Exact("/session/"),
        |app, req, _| session_lab::view(app, req),
        |app, req, _| session_lab::act(app, req),
    ),
    get(Exact("/__stats"), |app, _, _| stats(app)),
    get_post(
        Exact("/parse/"),
        |app, req, _| parse::form(app, req),
        |app, req, _| parse::run(app, req),
    ),
    Route {
        pattern: Exact("/upload/"),
        get: Some(|app, req, _| upload::form(app, req)),
        post: Post::Streamed(upload::body_policy),
        any: None,
    },
    get(Exact("/products/"), |app, req, _| products::list(app, req)),
    get(Exact("/history/"), |app, req, _| history::view(app, req)),
    get(Exact("/cart/"), |app, req, _| cart::view(app, req)),
    get(Exact("/wire/"), |app, req, _| wire::view(app, req)),
    get(Exact("/wire"), |_, req, _| append_slash(req)),
    get(Exact("/docs/"), |app, req, _| docs::index(app, req)),
    post(Exact("/history/clear/"), |_, _, _| history::clear().into()),
    post(Exact("/cart/add/"), |app, req, _| {
        cart::change(app, req, true)
    }),
    post(Exact("/cart/remove/"), |app, req, _| {
        cart::change(app, req, false)
    }),
    post(Exact("/cart/clear/"), |app, req, _| cart::clear(app, req)),
    // Browsers ask for it on pages without `<link rel="icon">` (and on images).
    get(Exact("/favicon.ico"), |app, req, _| {
        static_files::serve_from_memory(app.static_dir(), "favicon.ico", req, &|p| {
            app.problem_for(req, p)
        })
    }),
    // Django's APPEND_SLASH: these pages live at the address with the slash.
    get(Exact("/products"), |_, req, _| append_slash(req)),
    get(Exact("/history"), |_, req, _| append_slash(req)),
    get(Exact("/cart"), |_, req, _| append_slash(req)),
    get(Exact("/cookies"), |_, req, _| append_slash(req)),
    get(Exact("/docs"), |_, req, _| append_slash(req)),
    get(Exact("/parse"), |_, req, _| append_slash(req)),
    // Debug builds only (the integration tests run those): a handler that panics,
    // to show that a panic costs one response (500) and nothing else; a POST's body
    // is read first (the handler is called once it is in, not from the head).
    #[cfg(debug_assertions)]
    Route {
        pattern: Exact("/__debug/panic"),
        get: None,
        post: Post::None,
        any: Some((
            |_, head| match head.method {
                Method::Post => BodyPolicy::Buffer { limit: 1024 },
                _ => BodyPolicy::Ignore,
            },
            |_, _, _| panic!("deliberate panic from /__debug/panic"),
        )),
    },
    // The playground: `/status/<code>` takes every method (a body is skipped).
    Route {
        pattern: Prefix("/status/"),
        get: None,
        post: Post::None,
        any: Some((
            |_, _| BodyPolicy::Ignore,
            |app, req, code| playground::status(app, req, code).into(),
        )),
    },
    get(Prefix("/redirect/"), playground::redirect),
    get(Prefix("/docs/"), docs::page),
    get(Prefix("/basic-auth/"), playground::basic_auth),
    // The timed ones answer on the worker's timers (`Reply::After`, `Reply::Stream`).
    // `/delay/<s>` takes every method, as httpbin's does. A body is read (up to
    // `--max-body`) before the wait begins, not skipped during it: skipping a body
    // too long to skip ends the connection, which would cut the answer still owed.
    Route {
        pattern: Prefix("/delay/"),
        get: None,
        post: Post::None,
        any: Some((timed::body_policy, timed::delay)),
    },
    Route {
        pattern: Prefix("/stream/"),
        get: None,
        post: Post::None,
        any: Some((timed::body_policy, |app, req, n| {
            timed::get_only(app, req).map_or_else(|| timed::stream(app, req, n), Reply::from)
        })),
    },
    get(Prefix("/uploads/"), |app, req, name| {
        uploads::serve(&app.uploads, name, req, &|p| app.problem_for(req, p))
    }),
    get(Segment("/products/"), |app, req, id| {
        products::show(app, req, id)
    }),
    // Every path under `/cookies/` is the cookie lab.
    get_post(
        Prefix("/cookies/"),
        |app, req, _| cookie_lab::view(app, req),
        |app, req, _| cookie_lab::set(app, req),
    ),
    get(Prefix("/static/"), |app, req, rest| {
        static_files::serve_from_memory(app.static_dir(), rest, req, &|p| app.problem_for(req, p))
    }),
];

/// A path's route: its index in [`ROUTES`] and the rest of the path after the
/// route's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found<'p> {
    pub index: usize,
    pub rest: &'p [u8],
    /// A [`Pattern::Segment`] path without its final `/` (`/products/3`).
    pub slashless: bool,
}

/// The route of a (decoded) path: exact paths first, then prefixes and segments. In
/// bytes: a handler is given its part of the path as text ([`rest_text`]), and an
/// exact route's part is empty.
pub(crate) fn find(path: &[u8]) -> Option<Found<'_>> {
    let exact = ROUTES
        .iter()
        .position(|r| matches!(r.pattern, Exact(p) if same_bytes(p.as_bytes(), path)));
    match exact {
        Some(index) => Some(Found {
            index,
            rest: b"",
            slashless: false,
        }),
        None => find_pattern(path),
    }
}

/// [`find`] past the exact paths: the prefixes and segments, in table order (kept out
/// of line: an exact path does not pay for this loop's registers).
#[inline(never)]
fn find_pattern(path: &[u8]) -> Option<Found<'_>> {
    ROUTES
        .iter()
        .enumerate()
        .find_map(|(index, r)| match r.pattern {
            Exact(_) => None,
            Prefix(p) => path.strip_prefix(p.as_bytes()).map(|rest| Found {
                index,
                rest,
                slashless: false,
            }),
            Segment(p) => {
                let rest = path.strip_prefix(p.as_bytes())?;
                match rest.strip_suffix(b"/") {
                    Some(id) if !id.contains(&b'/') => Some(Found {
                        index,
                        rest: id,
                        slashless: false,
                    }),
                    None if !rest.contains(&b'/') => Some(Found {
                        index,
                        rest,
                        slashless: true,
                    }),
                    _ => None,
                }
            }
        })
}

/// The [`Found`] of `path` for the entry at `index` that [`find`] chose before.
fn found_at(path: &[u8], index: usize, slashless: bool) -> Found<'_> {
    let rest = match ROUTES[index].pattern {
        Exact(_) => &[],
        Prefix(p) => &path[p.len()..],
        Segment(p) if slashless => &path[p.len()..],
        Segment(p) => &path[p.len()..path.len() - 1],
    };
    Found {
        index,
        rest,
        slashless,
    }
}

/// A route's part of the path as text. It is UTF-8: the head parser lets only
/// visible ASCII into a target, and the decoder only UTF-8 out of its escapes; an
/// empty part (every exact route's) needs no check.
fn rest_text(rest: &[u8]) -> Option<&str> {
    if rest.is_empty() {
        return Some("");
    }
    std::str::from_utf8(rest).ok()
}

/// The `Allow` value of a route, from its entry.
pub(crate) fn allow(route: &Route) -> &'static str {
    match (route.get.is_some(), !matches!(route.post, Post::None)) {
        (true, true) => "GET, HEAD, POST",
        (true, false) => "GET, HEAD",
        (false, true) => "POST",
        (false, false) => "",
    }
}

/// The 400 for a path that cannot be decoded, showing its segment.
fn bad_path(e: &PathError) -> Problem {
    Problem::new(400, e.to_string()).with_offending(e.segment.as_bytes())
}

impl App {
    /// How the route of this head takes its body, and the route with the decoded path
    /// (pass them on in [`Request::route`] and [`Request::decoded`]: the path is
    /// decoded and the table looked up once per request).
    pub(crate) fn body_policy<'h>(&self, head: &RequestHead<'h>) -> (BodyPolicy, Routed<'h>) {
        let mut routed = Routed {
            lookup: Lookup::None,
            path: None,
        };
        let policy = body_policy(self, head, &mut routed);
        (policy, routed)
    }

    /// Answer a request.
    pub(crate) fn handle(&self, req: &Request<'_>) -> Reply {
        route(self, req)
    }
}

pub(crate) fn body_policy<'h>(
    app: &App,
    head: &RequestHead<'h>,
    routed: &mut Routed<'h>,
) -> BodyPolicy {
    // Refused from the head alone, before a byte of the body is read. The Host rule
    // holds for every page (a rebound page would read `/echo` too).
    if let Some(r) = rebinding_refusal(app, head) {
        return BodyPolicy::Reject(Box::new(r));
    }
    let path = match pct::decode_path_bytes(head.path_bytes()) {
        Ok(p) => p,
        Err(e) => {
            let mut r = app.problem(&bad_path(&e), head.header("accept"));
            r.head.close = true;
            return BodyPolicy::Reject(Box::new(r));
        }
    };
    let found = find(&path);
    routed.lookup = found.map_or(Lookup::None, |f| Lookup::Found {
        index: f.index as u16,
        slashless: f.slashless,
    });
    let route = found.map(|f| &ROUTES[f.index]);
    routed.path = Some(path);
    if let Some(Route {
        any: Some((policy, _)),
        ..
    }) = route
    {
        // `/echo` only reports requests, so it shows a cross-site Origin rather than
        // refusing it.
        return policy(app, head);
    }
    if head.method == Method::Post && cross_origin(head) {
        let mut r = app.problem(
            &Problem::new(
                403,
                "cross-origin POST refused: the Origin header names another site than this Host",
            ),
            head.header("accept"),
        );
        r.head.close = true;
        return BodyPolicy::Reject(Box::new(r));
    }
    match route.map(|r| r.post) {
        Some(Post::Buffered(_)) if head.method == Method::Post => BodyPolicy::Buffer {
            limit: app.config.max_body,
        },
        Some(Post::Streamed(policy)) if head.method == Method::Post => policy(app, head),
        _ => BodyPolicy::Ignore,
    }
}

/// Answer a request by its route: the one [`body_policy`] found (`req.route`), or
/// looked up now. The path is the one [`body_policy`] decoded (`req.decoded`), or is
/// decoded again (no allocation when it has no `%`: a borrow of the head then).
pub(crate) fn route(app: &App, req: &Request<'_>) -> Reply {
    let decoded = match req.decoded {
        Some(p) => Ok(std::borrow::Cow::Borrowed(p)),
        None => pct::decode_path_bytes(req.head.path_bytes()),
    };
    let path = match decoded {
        Ok(p) => p,
        Err(e) => {
            let mut r = app.problem_for(req, bad_path(&e));
            r.head.close = true;
            return r.into();
        }
    };
    let m = req.method();
    let found = match req.route {
        Lookup::Pending => find(&path),
        Lookup::None => None,
        Lookup::Found { index, slashless } => Some(found_at(&path, index as usize, slashless)),
    };
    let Some(found) = found else {
        if m == Method::Options && req.head.target() == "*" {
            return Response::new(200, "text/plain; charset=utf-8", crate::app::Body::Empty)
                .header("Allow", "GET, HEAD, POST, OPTIONS")
                .into();
        }
        return app
            .problem_for(req, Problem::not_found(&path_text(&path)))
            .into();
    };
    let Some(rest) = rest_text(found.rest) else {
        return app
            .problem_for(req, Problem::not_found(&path_text(&path)))
            .into();
    };
    let route = &ROUTES[found.index];
    if let Some((_, handler)) = route.any {
        return handler(app, req, rest);
    }
    let is_get = matches!(m, Method::Get | Method::Head);
    if found.slashless {
        // `/products/3`: the product page is `/products/3/`.
        return if is_get {
            append_slash(req).into()
        } else {
            app.problem_for(req, Problem::not_found(&path_text(&path)))
                .into()
        };
    }
    match (route.get, route.post) {
        (Some(get), _) if is_get => get(app, req, rest).into(),
        (_, Post::Buffered(post)) if m == Method::Post => post(app, req, rest),
        // A streamed POST's body went to its sink, which answered: not reached.
        _ => not_allowed(app, req, allow(route)).into(),
    }
}

/// A decoded path for a message (UTF-8 already: see [`rest_text`]).
fn path_text(path: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(path)
}

/// 405 with the methods the route takes, in the client's format.
fn not_allowed(app: &App, req: &Request<'_>, allow: &'static str) -> Response {
    app.problem_for(req, Problem::method_not_allowed())
        .header("Allow", allow)
}

/// `301 Moved Permanently` to the same target with a `/` after the path (query kept).
fn append_slash(req: &Request<'_>) -> Response {
    let location = match req.head.query() {
        Some(q) => format!("{}/?{q}", req.path()),
        None => format!("{}/", req.path()),
    };
    let body = format!("301 Moved Permanently: see {location}\n").into_bytes();
    Response::new(
        301,
        "text/plain; charset=utf-8",
        crate::app::Body::Bytes(body),
    )
    .header("Location", location)
}

/// `GET /__stats`: the store's counters as JSON, for benchmarks (writes vs fsyncs),
/// the session table's size, and each worker's connections (taken since start, open).
fn stats(app: &App) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let s = app.store.stats();
    let workers: Vec<serde_json::Value> = app
        .workers
        .iter()
        .map(|w| serde_json::json!({"accepted": w.accepted.load(Relaxed), "open": w.open.load(Relaxed)}))
        .collect();
    let v = serde_json::json!({"store": {
        "writes": s.writes, "records": s.records, "commits": s.commits, "fsyncs": s.fsyncs,
        "largest_batch": s.largest_batch, "log_bytes": s.log_bytes,
        "live_records": s.live_records, "generation": s.generation,
    }, "sessions": {"live": app.sessions.len(), "weight": app.sessions.weight()},
    "workers": workers});
    Response::new(
        200,
        "application/json",
        crate::app::Body::Bytes(v.to_string().into_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route_of(path: &str) -> Option<(Pattern, &str, bool)> {
        find(path.as_bytes()).map(|f| {
            (
                ROUTES[f.index].pattern,
                rest_text(f.rest).unwrap(),
                f.slashless,
            )
        })
    }

    #[test]
    fn exact_paths_are_unique_and_first() {
        let exact: Vec<&str> = ROUTES
            .iter()
            .filter_map(|r| match r.pattern {
                Exact(p) => Some(p),
                _ => None,
            })
            .collect();
        for (i, p) in exact.iter().enumerate() {
            assert!(!exact[..i].contains(p), "{p} twice");
        }
        assert!(matches!(ROUTES[0].pattern, Exact("/plaintext")));
    }

    #[test]
    fn lookup() {
        assert!(matches!(
            route_of("/plaintext"),
            Some((Exact("/plaintext"), "", false))
        ));
        // The exact `/products/` before the `/products/<id>/` pattern.
        assert!(matches!(
            route_of("/products/"),
            Some((Exact("/products/"), "", false))
        ));
        assert!(matches!(
            route_of("/products/3/"),
            Some((Segment(_), "3", false))
        ));
        assert!(matches!(
            route_of("/products/3"),
            Some((Segment(_), "3", true))
        ));
        assert!(route_of("/products/3/x").is_none());
        assert!(route_of("/products/3/x/").is_none());
        assert!(matches!(
            route_of("/static/a/b.css"),
            Some((Prefix("/static/"), "a/b.css", false))
        ));
        assert!(matches!(
            route_of("/cookies/x/y"),
            Some((Prefix("/cookies/"), _, false))
        ));
        assert!(route_of("/nowhere").is_none());
    }

    #[test]
    fn allow_comes_from_the_entry() {
        let allow_of = |path: &str| allow(&ROUTES[find(path.as_bytes()).unwrap().index]);
        assert_eq!(allow_of("/plaintext"), "GET, HEAD");
        assert_eq!(allow_of("/session/"), "GET, HEAD, POST");
        assert_eq!(allow_of("/upload/"), "GET, HEAD, POST");
        assert_eq!(allow_of("/user/logout/"), "POST");
        assert_eq!(allow_of("/cookies/a"), "GET, HEAD, POST");
    }
}
