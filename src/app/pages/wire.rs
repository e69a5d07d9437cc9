//! `GET /wire/`: the wire log of the client asking (SPEC "Seeing the exchange"):
//! its recent exchanges, newest first, byte for byte ([`crate::app::wire`]).
//!
//! ```text
//! {"exchanges": [{"conn": 3, "request": 2, "time": 1700000000123,
//!   "request_head": "GET / HTTP/1.1\r\n…\r\n\r\n", "body_bytes": 0, "body_text": null,
//!   "response_head": "HTTP/1.1 200 OK\r\n…\r\n\r\n"}],
//!  "recording": true}
//! ```

use crate::app::App;
use crate::app::exchange::{Request, Response};
use crate::app::view::{Vary, respond_extra};
use crate::app::wire::{Exchange, shown_body, shown_head};
use serde_json::{Value, json};

/// One exchange as the page and its JSON show it.
pub(crate) fn exchange_json(e: &Exchange) -> Value {
    json!({
        "conn": e.conn,
        "request": e.request,
        "time": e.time_ms,
        "request_head": shown_head(&e.request_head),
        "request_head_cut": e.request_cut,
        "body_bytes": e.body_bytes,
        "body_text": shown_body(&e.body_start, e.body_bytes),
        "response_head": shown_head(&e.response_head),
    })
}

/// What a template shows of an exchange besides its JSON: the heads with every CR
/// and LF written out, the time as a clock.
pub(crate) fn exchange_view(e: &Exchange) -> Value {
    let mut v = exchange_json(e);
    v["request_shown"] = json!(crlf_shown(v["request_head"].as_str().unwrap_or("")));
    v["response_shown"] = json!(crlf_shown(v["response_head"].as_str().unwrap_or("")));
    v["clock"] = json!(clock(e.time_ms));
    v
}

/// `GET /x HTTP/1.1\r\n` written out as `GET /x HTTP/1.1\r\n` and a line break, so a
/// page shows where each CR and LF was.
pub(crate) fn crlf_shown(s: &str) -> String {
    s.replace('\r', "\\r").replace('\n', "\\n\n")
}

/// `13:45:01.123 UTC`, from Unix milliseconds.
fn clock(ms: u64) -> String {
    let secs = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03} UTC",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        ms % 1000
    )
}

pub(crate) fn view(app: &App, req: &Request<'_>) -> Response {
    let exchanges = app.wire.of(req.peer.map(|p| p.ip()));
    let data = json!({
        "exchanges": exchanges.iter().map(exchange_json).collect::<Vec<_>>(),
        "recording": app.wire.enabled(),
    });
    let extra = json!({
        "shown": exchanges.iter().map(exchange_view).collect::<Vec<_>>(),
        "remote": req.peer.map(|p| p.ip().to_string()),
    });
    respond_extra(app, req, 200, "wire.html", &data, extra, Vary::Accept)
        .header("Cache-Control", "no-store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_is_written_out() {
        assert_eq!(
            crlf_shown("GET / HTTP/1.1\r\n\r\n"),
            "GET / HTTP/1.1\\r\\n\n\\r\\n\n"
        );
    }

    #[test]
    fn the_clock_is_utc() {
        assert_eq!(clock(1_700_000_000_123), "22:13:20.123 UTC");
    }
}
