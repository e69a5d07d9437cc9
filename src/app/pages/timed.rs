//! The timed playground endpoints (SPEC route table): `/delay/<s>` answers after s
//! seconds, `/stream/<n>` sends n JSON lines as a chunked response, one chunk a line,
//! `?interval=<ms>` apart. The pages only say what to send and when
//! ([`Reply::After`], [`Reply::Stream`]); the I/O layer holds the connection on the
//! worker's timers meanwhile, so a waiting client holds no thread.

use crate::app::App;
use crate::app::exchange::{BodyPolicy, Reply, Request, Response, Stream};
use crate::app::view::json_response;
use crate::http::Problem;
use crate::http::head::RequestHead;
use crate::http::query::parse_urlencoded;
use crate::http::response::ResponseHead;
use std::borrow::Cow;
use std::time::Duration;

/// The longest `/delay/<s>`, in seconds.
pub(crate) const MAX_DELAY_SECS: u64 = 10;
/// The most lines of `/stream/<n>`.
pub(crate) const MAX_LINES: usize = 100;
/// The longest `?interval=` of `/stream/<n>`, in milliseconds.
pub(crate) const MAX_INTERVAL_MS: u64 = 10_000;

/// The seconds of `/delay/<s>`: digits, optionally `.` and 1 to 3 more
/// (milliseconds), from 0 to 10. Each way to get it wrong has its own reason.
pub(crate) fn parse_delay(s: &str) -> Result<Duration, String> {
    let lower = s.to_ascii_lowercase();
    if ["nan", "inf", "+inf", "-inf", "infinity", "-infinity"].contains(&lower.as_str()) {
        return Err(format!(
            "the delay must be a finite number of seconds, not {s:?}"
        ));
    }
    if let Some(rest) = s.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Err(format!("a delay cannot be negative: {s:?}"));
    }
    let not_a_number = || {
        format!(
            "the delay is not a number of seconds: {s:?} (write it like 2 or 0.5, from 0 \
             to {MAX_DELAY_SECS})"
        )
    };
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || frac.is_some_and(|f| !digits(f)) {
        return Err(not_a_number());
    }
    let frac = frac.unwrap_or("");
    if frac.len() > 3 {
        return Err(format!(
            "the delay {s:?} has more than 3 digits after the point: it is counted in \
             milliseconds"
        ));
    }
    let too_long = || format!("the delay must be at most {MAX_DELAY_SECS} seconds, not {s:?}");
    // Leading zeros are fine (`007`); a long number is too long, not a parse error.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 2 {
        return Err(too_long());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| not_a_number())?
    };
    let millis: u64 = format!("{frac:0<3}").parse().map_err(|_| not_a_number())?;
    let d = Duration::from_millis(secs * 1000 + millis);
    if d > Duration::from_secs(MAX_DELAY_SECS) {
        return Err(too_long());
    }
    Ok(d)
}

/// `any /delay/<s>`: `{"delay": s}` after s seconds (like httpbin, any method; a body
/// is skipped). Errors are answered at once.
pub(crate) fn delay(app: &App, req: &Request<'_>, rest: &str) -> Reply {
    let d = match parse_delay(rest) {
        Ok(d) => d,
        Err(msg) => return app.problem_for(req, Problem::new(400, msg)).into(),
    };
    let data = serde_json::json!({"delay": d.as_secs_f64()});
    Reply::After(d, Box::new(json_response(200, &data)))
}

/// Up to `max_digits` ASCII digits and nothing else (no sign, no space).
fn number(s: &str, max_digits: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `?interval=` of `/stream/<n>` (0 when absent).
fn parse_interval(req: &Request<'_>) -> Result<Duration, String> {
    let Some(query) = req.head.query() else {
        return Ok(Duration::ZERO);
    };
    let params = parse_urlencoded(query.as_bytes());
    let Some(value) = params.get("interval") else {
        return Ok(Duration::ZERO);
    };
    number(value, 5)
        .filter(|&ms| ms <= MAX_INTERVAL_MS)
        .map(Duration::from_millis)
        .ok_or_else(|| {
            format!(
                "interval is the wait between lines in milliseconds, a number from 0 to \
                 {MAX_INTERVAL_MS}, not {value:?}"
            )
        })
}

/// One line of `/stream/<n>`.
fn stream_line(i: usize, n: usize) -> Vec<u8> {
    format!("{{\"id\": {i}, \"of\": {n}}}\n").into_bytes()
}

/// `GET /stream/<n>`: n JSON lines `{"id": i, "of": n}`, one chunk each,
/// `?interval=<ms>` apart.
pub(crate) fn stream(app: &App, req: &Request<'_>, rest: &str) -> Reply {
    let Some(n) = number(rest, 3)
        .map(|n| n as usize)
        .filter(|&n| n <= MAX_LINES)
    else {
        return app
            .problem_for(
                req,
                Problem::new(
                    400,
                    format!(
                        "the number of lines must be a number from 0 to {MAX_LINES}, not \
                         {rest:?}"
                    ),
                ),
            )
            .into();
    };
    let interval = match parse_interval(req) {
        Ok(d) => d,
        Err(msg) => return app.problem_for(req, Problem::new(400, msg)).into(),
    };
    let mut head = ResponseHead::new(200);
    // One JSON text a line (NDJSON / JSON Lines).
    head.content_type = Some(Cow::Borrowed("application/x-ndjson"));
    Reply::Stream(Stream {
        head,
        pieces: Box::new((0..n).map(move |i| stream_line(i, n))),
        interval,
    })
}

/// How `/delay` and `/stream` take a body: read whole (up to `--max-body`, 413 past
/// it) before the handler runs and the wait begins, then dropped. A body skipped
/// while the answer waited could end the connection under it (one too long to skip).
pub(crate) fn body_policy(app: &App, _head: &RequestHead<'_>) -> BodyPolicy {
    BodyPolicy::Buffer {
        limit: app.config.max_body,
    }
}

/// What a non-GET to `/stream/<n>` gets.
pub(crate) fn get_only(app: &App, req: &Request<'_>) -> Option<Response> {
    use crate::http::Method;
    if matches!(req.method(), Method::Get | Method::Head) {
        return None;
    }
    Some(
        app.problem_for(req, Problem::method_not_allowed())
            .header("Allow", "GET, HEAD"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays() {
        let ms = |s| parse_delay(s).map(|d| d.as_millis());
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("0.5"), Ok(500));
        assert_eq!(ms("2.25"), Ok(2250));
        assert_eq!(ms("10"), Ok(10_000));
        assert_eq!(ms("10.000"), Ok(10_000));
        assert_eq!(ms("007"), Ok(7000));
        for (s, says) in [
            ("10.001", "at most 10"),
            ("123456789012345678901234567890", "at most 10"),
            ("-0.5", "negative"),
            ("-x", "not a number"),
            ("NaN", "finite"),
            ("inf", "finite"),
            ("1e1", "not a number"),
            ("+1", "not a number"),
            (" 1", "not a number"),
            ("1.2.3", "not a number"),
            ("1.2345", "milliseconds"),
            ("", "not a number"),
        ] {
            let e = parse_delay(s).unwrap_err();
            assert!(e.contains(says), "{s:?}: {e}");
        }
    }
}
