//! `/plaintext` and `/json`: the TechEmpower benchmark endpoints.

use crate::app::exchange::{Body, Response};
use crate::http::response::{Prebuilt, ResponseHead};
use std::borrow::Cow;

/// The heads of the two endpoints, written out but for the date (what the encoder
/// writes field by field from the same [`Response`]: the tests below compare).
static PLAINTEXT_HEAD: Prebuilt = Prebuilt {
    head: b"HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: wirepost\r\n\
            Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n",
    date_at: DATE_AT,
    body_len: 13,
};
static JSON_HEAD: Prebuilt = Prebuilt {
    head: b"HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: wirepost\r\n\
            Content-Type: application/json\r\nContent-Length: 27\r\n\r\n",
    date_at: DATE_AT,
    body_len: 27,
};
/// Where the date goes: after `HTTP/1.1 200 OK\r\nDate: `.
const DATE_AT: usize = 23;

/// `Hello, World!` as text/plain, with no allocation at all: the head's extra-field
/// list stays empty and the body is a static slice. Built at compile time: a copy of
/// one constant, whole words at a time (field by field, the stores were narrower
/// than the loads of the moves that follow, which then waited on them).
pub(crate) fn plaintext() -> Response {
    const PLAINTEXT: Response = Response {
        head: ResponseHead {
            status: 200,
            content_type: Some(Cow::Borrowed("text/plain")),
            headers: Vec::new(),
            encoded: None,
            close: false,
            security: false,
            prebuilt: Some(&PLAINTEXT_HEAD),
        },
        body: Body::Static(b"Hello, World!"),
        recorded: false,
    };
    PLAINTEXT
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
    let mut r = benchmark(Response::new(200, "application/json", Body::Bytes(body)));
    r.head.prebuilt = Some(&JSON_HEAD);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Version;
    use crate::http::response::{EncodeCtx, Framing, encode_head};

    /// The head as the encoder writes it: with the prebuilt bytes, or field by field.
    fn encoded(r: &Response, prebuilt: bool, version: Version, keep_alive: bool) -> Vec<u8> {
        let mut head = r.head.clone();
        if !prebuilt {
            head.prebuilt = None;
        }
        let ctx = EncodeCtx {
            date: b"Fri, 04 Dec 2026 18:30:00 GMT",
            version,
            keep_alive,
        };
        let mut out = Vec::new();
        encode_head(&head, Framing::Length(r.body.len()), &ctx, &mut out);
        out
    }

    #[test]
    fn a_prebuilt_head_is_used_where_it_holds() {
        // A wrong prebuilt head shows where it is used, and only there.
        static BENT: Prebuilt = Prebuilt {
            head: b"HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
            date_at: DATE_AT,
            body_len: 13,
        };
        let mut r = plaintext();
        r.head.prebuilt = Some(&BENT);
        let used = |r: &Response, version, keep_alive| {
            encoded(r, true, version, keep_alive) != encoded(r, false, version, keep_alive)
        };
        assert!(used(&r, Version::Http11, true));
        assert!(!used(&r, Version::Http11, false));
        assert!(!used(&r, Version::Http10, true));
        r.head.header("Vary", "Cookie");
        assert!(!used(&r, Version::Http11, true));
        // A head with no room for its date is not used (and leaves nothing behind).
        static SHORT: Prebuilt = Prebuilt {
            head: b"HTTP/1.1 200 OK\r\n",
            date_at: DATE_AT,
            body_len: 13,
        };
        let mut r = plaintext();
        r.head.prebuilt = Some(&SHORT);
        assert!(!used(&r, Version::Http11, true));
    }

    #[test]
    fn the_prebuilt_heads_are_what_the_fields_say() {
        for r in [plaintext(), json()] {
            let prebuilt = r.head.prebuilt.expect("prebuilt");
            assert_eq!(prebuilt.body_len, r.body.len());
            for version in [Version::Http11, Version::Http10] {
                for keep_alive in [true, false] {
                    let fast = encoded(&r, true, version, keep_alive);
                    let slow = encoded(&r, false, version, keep_alive);
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&slow),
                        "{version:?} keep-alive {keep_alive}"
                    );
                }
            }
        }
    }
}
