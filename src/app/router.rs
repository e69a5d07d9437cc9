//! Routing: from a path and method to a page.
//!
//! The table is a `match` on the path, which the compiler turns into comparisons
//! cheaper than any map; each arm checks its methods and answers 405 with `Allow`
//! otherwise. `HEAD` is answered wherever `GET` is (the I/O layer drops the body).

use crate::app::pages::{
    cart, cookie_lab, echo, history, index, plain, products, session_lab, static_files, upload,
    uploads, user,
};
use crate::app::{App, BodyPolicy, Reply, Request, Response};
use crate::http::head::RequestHead;
use crate::http::{Method, Problem};

const GET_HEAD: &str = "GET, HEAD";

fn is_get(m: Method) -> bool {
    matches!(m, Method::Get | Method::Head)
}

/// The names a browser request's `Host` may have (SPEC, the `Host` rule; Django's
/// `ALLOWED_HOSTS`). A page of `evil.example` whose name its owner rebinds to
/// 127.0.0.1 (DNS rebinding) reads our pages as its own origin: the browser sends
/// `Host: evil.example`, and its `Origin` matches that `Host`, so the CSRF check
/// passes. The `Host` gives it away. Requests without `Origin` (curl, nc: no page
/// behind them) may name any `Host`.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// Lowercase names without port: `localhost`, `127.0.0.1`, `[::1]`, the listen
    /// address, `--allowed-host` values (`.name` for it and its subdomains).
    names: Vec<String>,
    /// `--allowed-host '*'`.
    any: bool,
}

/// Always allowed (the loopback names, as `runserver` allows them with `DEBUG`).
pub const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl AllowedHosts {
    /// The loopback names, `listen` (the listen address's host, e.g. from `--addr`)
    /// and `extra` (`--allowed-host`).
    pub fn new<'a>(
        listen: impl IntoIterator<Item = &'a str>,
        extra: impl IntoIterator<Item = &'a str>,
    ) -> AllowedHosts {
        let mut hosts = AllowedHosts::default();
        for name in LOCAL_HOSTS.into_iter().chain(listen).chain(extra) {
            let name = name.trim().to_ascii_lowercase();
            if name == "*" {
                hosts.any = true;
            } else if !hosts.names.contains(&name) {
                hosts.names.push(name);
            }
        }
        hosts
    }

    /// Whether a `Host` field value names an allowed host: port stripped
    /// (`[::1]:8000` → `[::1]`), case ignored, a final dot ignored (`localhost.`).
    pub fn allows(&self, host: &[u8]) -> bool {
        if self.any {
            return true;
        }
        let name = host_name(host);
        let name = name.strip_suffix(b".").unwrap_or(name);
        self.names.iter().any(|allowed| {
            let allowed = allowed.as_bytes();
            match allowed.strip_prefix(b".") {
                // `.example.com`: example.com itself and any name ending in it.
                Some(domain) => {
                    name.eq_ignore_ascii_case(domain)
                        || (name.len() > allowed.len()
                            && name[name.len() - allowed.len()..].eq_ignore_ascii_case(allowed))
                }
                None => name.eq_ignore_ascii_case(allowed),
            }
        })
    }
}

/// The host part of a `Host` value (RFC 9110 §7.2: `uri-host [ ":" port ]`, where an
/// IPv6 address is in brackets, so the port is after `]`).
fn host_name(host: &[u8]) -> &[u8] {
    if host.first() == Some(&b'[') {
        return match host.iter().position(|&b| b == b']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.iter().rposition(|&b| b == b':') {
        Some(colon) => &host[..colon],
        None => host,
    }
}

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
pub fn cross_origin(head: &RequestHead<'_>) -> bool {
    let Some(origin) = head.header("origin") else {
        return false;
    };
    let host = head.header("host").unwrap_or(b"");
    let same = origin.len() == 7 + host.len()
        && origin[..7].eq_ignore_ascii_case(b"http://")
        && origin[7..].eq_ignore_ascii_case(host);
    !same
}

pub fn body_policy(app: &App, head: &RequestHead<'_>) -> BodyPolicy {
    // Refused from the head alone, before a byte of the body is read. The Host rule
    // holds for every page (a rebound page would read `/echo` too); `/echo` only
    // reports requests, so it shows a cross-site Origin rather than refusing it.
    if let Some(r) = rebinding_refusal(app, head) {
        return BodyPolicy::Reject(r);
    }
    if head.method == Method::Post && head.path() != "/echo" && cross_origin(head) {
        let mut r = app.problem(
            &Problem::new(
                403,
                "cross-origin POST refused: the Origin header names another site than this Host",
            ),
            head.header("accept"),
        );
        r.head.close = true;
        return BodyPolicy::Reject(r);
    }
    match head.path() {
        "/echo" => echo::body_policy(app, head),
        "/upload/" if head.method == Method::Post => upload::body_policy(app, head),
        "/user/register/" | "/user/login/" | "/user/logout/" | "/session/" | "/cart/add/"
        | "/cart/remove/" | "/cart/clear/" | "/history/clear/"
            if head.method == Method::Post =>
        {
            BodyPolicy::Buffer {
                limit: app.config.max_body,
            }
        }
        p if head.method == Method::Post && is_cookie_lab(p) => BodyPolicy::Buffer {
            limit: app.config.max_body,
        },
        _ => BodyPolicy::Ignore,
    }
}

pub fn route(app: &App, req: &Request<'_>) -> Reply {
    let post = req.method() == Method::Post;
    match req.path() {
        "/user/register/" if post => user::register(app, req),
        "/user/login/" if post => user::login(app, req),
        "/user/logout/" if post => user::logout(app, req),
        "/session/" if post => session_lab::act(app, req),
        "/cart/add/" if post => cart::change(app, req, true),
        "/cart/remove/" if post => cart::change(app, req, false),
        "/cart/clear/" if post => cart::clear(app, req),
        p if post && is_cookie_lab(p) => cookie_lab::set(app, req),
        _ => route_now(app, req).into(),
    }
}

/// The pages that answer at once.
fn route_now(app: &App, req: &Request<'_>) -> Response {
    let path = req.path();
    let m = req.method();
    match path {
        "/plaintext" if is_get(m) => plain::plaintext(),
        "/json" if is_get(m) => plain::json(),
        "/" if is_get(m) => index::index(app, req),
        "/plaintext" | "/json" | "/" => not_allowed(app, req, GET_HEAD),
        "/user/register/" if is_get(m) => user::register_form(app, req),
        "/user/login/" if is_get(m) => user::login_form(app, req),
        "/user/" if is_get(m) => user::whoami(app, req),
        "/session/" if is_get(m) => session_lab::view(app, req),
        "/user/register/" | "/user/login/" | "/session/" => {
            not_allowed(app, req, "GET, HEAD, POST")
        }
        "/user/logout/" => not_allowed(app, req, "POST"),
        "/user/" => not_allowed(app, req, GET_HEAD),
        "/__stats" if is_get(m) => stats(app),
        "/echo" => echo::echo(req),
        "/upload/" if is_get(m) => upload::form(app, req),
        // A POST's body went to the upload sink, which answered; this is not reached.
        "/upload/" => not_allowed(app, req, "GET, HEAD, POST"),
        "/products/" if is_get(m) => products::list(app, req),
        "/history/" if is_get(m) => history::view(app, req),
        "/cart/" if is_get(m) => cart::view(app, req),
        "/products/" | "/history/" | "/cart/" => not_allowed(app, req, GET_HEAD),
        "/history/clear/" if m == Method::Post => history::clear(),
        "/history/clear/" | "/cart/add/" | "/cart/remove/" | "/cart/clear/" => {
            not_allowed(app, req, "POST")
        }
        // Browsers ask for it on pages without `<link rel="icon">` (and on images).
        "/favicon.ico" if is_get(m) => static_files::serve(app.static_dir(), "favicon.ico", req),
        // Django's APPEND_SLASH: these pages live at the address with the slash.
        "/products" | "/history" | "/cart" | "/cookies" if is_get(m) => append_slash(req),
        // Debug builds only (the integration tests run those): a handler that panics,
        // to show that a panic costs one response (500) and nothing else.
        #[cfg(debug_assertions)]
        "/__debug/panic" => panic!("deliberate panic from /__debug/panic"),
        _ => {
            if let Some(name) = path.strip_prefix("/uploads/") {
                if is_get(m) {
                    uploads::serve(&app.uploads, name, req)
                } else {
                    not_allowed(app, req, GET_HEAD)
                }
            } else if let Some(rest) = path.strip_prefix("/products/") {
                match rest.strip_suffix('/') {
                    Some(id) if !id.contains('/') && is_get(m) => products::show(app, req, id),
                    Some(id) if !id.contains('/') => not_allowed(app, req, GET_HEAD),
                    // `/products/3`: the product page is `/products/3/`.
                    None if !rest.contains('/') && is_get(m) => append_slash(req),
                    _ => app.problem_for(req, Problem::not_found(path)),
                }
            } else if is_cookie_lab(path) {
                if is_get(m) {
                    cookie_lab::view(app, req)
                } else {
                    not_allowed(app, req, "GET, HEAD, POST")
                }
            } else if let Some(rest) = path.strip_prefix("/static/") {
                if is_get(m) {
                    static_files::serve(app.static_dir(), rest, req)
                } else {
                    not_allowed(app, req, GET_HEAD)
                }
            } else if m == Method::Options && req.head.target() == "*" {
                Response::new(200, "text/plain; charset=utf-8", crate::app::Body::Empty)
                    .header("Allow", "GET, HEAD, POST, OPTIONS")
            } else {
                app.problem_for(req, Problem::not_found(path))
            }
        }
    }
}

/// 405 with the methods the route takes, in the client's format.
fn not_allowed(app: &App, req: &Request<'_>, allow: &'static str) -> Response {
    app.problem_for(req, Problem::method_not_allowed())
        .header("Allow", allow)
}

/// Every path under `/cookies/` is the cookie lab.
fn is_cookie_lab(path: &str) -> bool {
    path.starts_with("/cookies/")
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
/// and the session table's size.
fn stats(app: &App) -> Response {
    let s = app.store.stats();
    let v = serde_json::json!({"store": {
        "writes": s.writes, "records": s.records, "commits": s.commits, "fsyncs": s.fsyncs,
        "largest_batch": s.largest_batch, "log_bytes": s.log_bytes,
        "live_records": s.live_records, "generation": s.generation,
    }, "sessions": {"live": app.sessions.len(), "weight": app.sessions.weight()}});
    Response::new(
        200,
        "application/json",
        crate::app::Body::Bytes(v.to_string().into_bytes()),
    )
}
