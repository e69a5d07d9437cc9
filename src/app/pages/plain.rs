//! `/plaintext` and `/json`: the TechEmpower benchmark endpoints.

use crate::app::exchange::{Body, Response};

/// `Hello, World!` as text/plain, with no allocation at all: the head's extra-field
/// list stays empty and the body is a static slice.
pub(crate) fn plaintext() -> Response {
    benchmark(Response::new(
        200,
        "text/plain",
        Body::Static(b"Hello, World!"),
    ))
}

/// The benchmark endpoints answer as TechEmpower's rules have them, without the
/// security fields every other response carries (SPEC), and are not recorded in the
/// wire log: recording cost their pipelined load 4–14% of its CPU per request, over
/// the SPEC's 5% (docs/performance.md, docs/seeing-the-exchange.md).
fn benchmark(mut r: Response) -> Response {
    r.head.security = false;
    r.recorded = false;
    r
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

/// `{"message":"Hello, World!"}`, serialized per request (as the benchmark requires).
pub(crate) fn json() -> Response {
    let body = serde_json::to_vec(&Message {
        message: "Hello, World!",
    })
    .unwrap_or_default();
    benchmark(Response::new(200, "application/json", Body::Bytes(body)))
}
