//! Routing: from a path and method to a page.
//!
//! The table is a `match` on the path, which the compiler turns into comparisons
//! cheaper than any map; each arm checks its methods and answers 405 with `Allow`
//! otherwise. `HEAD` is answered wherever `GET` is (the I/O layer drops the body).

use crate::app::pages::{echo, index, plain, static_files, upload, uploads};
use crate::app::{App, BodyPolicy, Reply, Request, Response};
use crate::http::Method;
use crate::http::head::RequestHead;

const GET_HEAD: &str = "GET, HEAD";

fn is_get(m: Method) -> bool {
    matches!(m, Method::Get | Method::Head)
}

pub fn body_policy(app: &App, head: &RequestHead<'_>) -> BodyPolicy {
    match head.path() {
        "/echo" => BodyPolicy::Buffer {
            limit: app.config.max_body,
        },
        "/upload/" if head.method == Method::Post => upload::body_policy(app, head),
        _ => BodyPolicy::Ignore,
    }
}

pub fn route(app: &App, req: &Request<'_>) -> Reply {
    route_now(app, req).into()
}

/// The pages that answer at once.
fn route_now(app: &App, req: &Request<'_>) -> Response {
    let path = req.path();
    let m = req.method();
    match path {
        "/plaintext" if is_get(m) => plain::plaintext(),
        "/json" if is_get(m) => plain::json(),
        "/" if is_get(m) => index::index(req),
        "/plaintext" | "/json" | "/" => Response::method_not_allowed(GET_HEAD),
        "/echo" => echo::echo(req),
        "/upload/" if is_get(m) => upload::form(app, req),
        // A POST's body went to the upload sink, which answered; this is not reached.
        "/upload/" => Response::method_not_allowed("GET, HEAD, POST"),
        // Debug builds only (the integration tests run those): a handler that panics,
        // to show that a panic costs one response (500) and nothing else.
        #[cfg(debug_assertions)]
        "/__debug/panic" => panic!("deliberate panic from /__debug/panic"),
        _ => {
            if let Some(name) = path.strip_prefix("/uploads/") {
                if is_get(m) {
                    uploads::serve(&app.uploads, name, req)
                } else {
                    Response::method_not_allowed(GET_HEAD)
                }
            } else if let Some(rest) = path.strip_prefix("/static/") {
                if is_get(m) {
                    static_files::serve(app.static_dir(), rest, req)
                } else {
                    Response::method_not_allowed(GET_HEAD)
                }
            } else if m == Method::Options && req.head.target() == "*" {
                Response::new(200, "text/plain; charset=utf-8", crate::app::Body::Empty)
                    .header("Allow", "GET, HEAD, POST, OPTIONS")
            } else {
                Response::text_error(404, &format!("no page at {path}"))
            }
        }
    }
}
