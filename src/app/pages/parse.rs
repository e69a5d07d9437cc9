//! `/parse/`: the parser playground (SPEC "`/parse/`"). Raw bytes in (written with
//! `\r`, `\n`, `\t`, `\xHH` and `\\` escapes), wirepost's own request parser run over
//! them ([`crate::http::trace`]), every event with its byte offset out, or the error
//! with its status, line and byte, the offending byte marked.
//!
//! `GET` shows the form, prefilled with the SPEC's example and its result. `POST`
//! takes the form (`bytes`, `split`) urlencoded, or JSON
//! `{"bytes": "…", "split": [5, 17]}`. With `split` the bytes are also fed in those
//! pieces, and the page says whether the events are the same as for the whole input
//! (they always should be: the split property). A bad escape or bad split offsets
//! get 400 with the reason (for a browser, the form again with it).
//!
//! Bounds: the body is at most `--max-body` (the route's limit, 413 past it), so the
//! input is too; the tracer keeps [`trace::MAX_EVENTS`] events and counts the rest,
//! and the page shows at most [`SHOWN_BYTES`] of the input around the offending byte.

use crate::app::App;
use crate::app::exchange::{Reply, Request, Response};
use crate::app::forms::form_fields;
use crate::app::view::{html, json_response, problem_response};
use crate::http::Problem;
use crate::http::accept::{ErrorFormat, Format, error_format, format};
use crate::http::trace::{self, BodyFraming, Located, TraceEvent, Traced, escape, push_escaped};
use serde_json::{Value, json};

/// The example the form starts with (SPEC "`/parse/`"), as the textarea shows it: the
/// real line breaks only lay the text out; the bytes are the escapes.
pub(crate) const EXAMPLE: &str = "GET /a?b=1 HTTP/1.1\\r\\n\nHost: x\\r\\n\n\\r\\n";

/// Most input bytes the HTML page shows (escaped, so up to 4× as many characters):
/// a window around the offending byte, or the start. The JSON has the events only.
pub(crate) const SHOWN_BYTES: usize = 16 * 1024;

/// Whether to answer JSON: when `Accept` prefers it, and for a JSON body unless
/// `Accept` asks for HTML by name (`curl -H 'Content-Type: application/json' -d …`
/// sends `Accept: */*`: it is an API call, not a browser).
fn answers_json(req: &Request<'_>) -> bool {
    let accept = req.header("accept");
    format(accept) == Format::Json
        || (is_json_body(req) && error_format(accept) != ErrorFormat::Html)
}

fn is_json_body(req: &Request<'_>) -> bool {
    req.header("content-type").is_some_and(|ct| {
        let essence = ct.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii();
        essence.eq_ignore_ascii_case(b"application/json")
    })
}

/// What a request asked for: the bytes, the text they were written as, the cuts.
struct Asked {
    text: String,
    split_text: String,
    bytes: Vec<u8>,
    cuts: Option<Vec<usize>>,
}

pub(crate) fn form(app: &App, req: &Request<'_>) -> Response {
    let bytes = trace::unescape(EXAMPLE, false).unwrap_or_default();
    let asked = Asked {
        text: EXAMPLE.to_string(),
        split_text: String::new(),
        bytes,
        cuts: None,
    };
    answer(app, req, 200, &asked)
}

pub(crate) fn run(app: &App, req: &Request<'_>) -> Reply {
    match read(app, req) {
        Ok(asked) => answer(app, req, 200, &asked),
        Err(r) => r,
    }
    .into()
}

/// The form or JSON body, decoded; a refusal in the client's format.
fn read(app: &App, req: &Request<'_>) -> Result<Asked, Response> {
    let essence = req
        .header("content-type")
        .map(|ct| ct.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii());
    let json_body = is_json_body(req);
    if let Some(e) = essence
        && !json_body
        && !e.eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
        && !req.body.is_empty()
    {
        let msg = format!(
            "/parse/ takes a form (application/x-www-form-urlencoded) or application/json, not {:?}",
            String::from_utf8_lossy(e)
        );
        return Err(problem(app, req, Problem::new(415, msg)));
    }
    let (text, split) = if json_body {
        let v: Value = serde_json::from_slice(req.body)
            .map_err(|e| refuse(app, req, "", "", format!("the body is not valid JSON: {e}")))?;
        let text = match v.get("bytes") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(refuse(
                    app,
                    req,
                    "",
                    "",
                    format!(
                        "\"bytes\" must be a string (with \\r, \\n, \\t, \\xHH escapes), not {}",
                        short(other)
                    ),
                ));
            }
            None => {
                return Err(refuse(
                    app,
                    req,
                    "",
                    "",
                    "the JSON has no \"bytes\": send {\"bytes\": \"GET / HTTP/1.1\\\\r\\\\n…\"}"
                        .to_string(),
                ));
            }
        };
        let split = match v.get("split") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_u64() {
                        Some(n) => parts.push(n.to_string()),
                        None => {
                            return Err(refuse(
                                app,
                                req,
                                &text,
                                "",
                                format!(
                                    "split: {} is not a byte offset (a whole number)",
                                    short(item)
                                ),
                            ));
                        }
                    }
                }
                parts.join(",")
            }
            Some(other) => {
                return Err(refuse(
                    app,
                    req,
                    &text,
                    "",
                    format!(
                        "\"split\" must be a list of byte offsets like [5, 17], not {}",
                        short(other)
                    ),
                ));
            }
        };
        (text, split)
    } else {
        let fields = form_fields(app, req)?;
        let Some(text) = fields.get("bytes") else {
            return Err(refuse(
                app,
                req,
                "",
                "",
                "the form has no \"bytes\" field".to_string(),
            ));
        };
        (
            text.to_string(),
            fields.get("split").unwrap_or("").to_string(),
        )
    };
    // JSON strings carry real CR and LF (`"\r\n"` in JSON); in the textarea a line
    // break is layout (a browser sends each as CR LF) and the bytes are escapes.
    let bytes = trace::unescape(&text, json_body)
        .map_err(|e| refuse(app, req, &text, &split, format!("bytes: {e}")))?;
    let cuts = parse_split(&split, bytes.len())
        .map_err(|m| refuse(app, req, &text, &split, format!("split: {m}")))?;
    Ok(Asked {
        text,
        split_text: split,
        bytes,
        cuts,
    })
}

/// A JSON value as a refusal names it: its text, cut after 40 characters.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// `5,17` (commas, spaces allowed) into cut offsets, each strictly inside the input
/// and after the one before; empty means no split.
fn parse_split(text: &str, len: usize) -> Result<Option<Vec<usize>>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut cuts: Vec<usize> = Vec::new();
    for piece in text.split(',') {
        let piece = piece.trim();
        let n: usize = piece.parse().map_err(|_| {
            let shown: String = piece.chars().take(20).collect();
            format!("{shown:?} is not a byte offset (write offsets like 5,17)")
        })?;
        if n == 0 || n >= len {
            return Err(if len < 2 {
                format!("offset {n} is out of range: the input is {len} bytes, too short to cut")
            } else {
                format!(
                    "offset {n} is out of range: the input is {len} bytes, so a cut goes at 1 to {}",
                    len - 1
                )
            });
        }
        if let Some(&last) = cuts.last()
            && n <= last
        {
            return Err(format!("offsets must increase: {n} comes after {last}"));
        }
        cuts.push(n);
    }
    Ok(Some(cuts))
}

/// A refusal: JSON `{"status": 400, "error": …}`, or the form again with the reason.
fn refuse(app: &App, req: &Request<'_>, text: &str, split: &str, message: String) -> Response {
    if answers_json(req) {
        return problem(app, req, Problem::new(400, message));
    }
    let context = json!({"refusal": message, "text": text, "split_text": split});
    page(app, 400, &context)
}

/// An error answer: JSON to an API call ([`answers_json`]), else by `Accept` as
/// every error.
fn problem(app: &App, req: &Request<'_>, p: Problem) -> Response {
    if answers_json(req) {
        return problem_response(&app.templates, &p, ErrorFormat::Json, None);
    }
    app.problem_for(req, p)
}

/// The HTML page, `Vary: Accept` as every page that also answers JSON.
fn page(app: &App, status: u16, context: &Value) -> Response {
    html(&app.templates, status, "parse.html", context).header("Vary", "Accept")
}

fn answer(app: &App, req: &Request<'_>, status: u16, asked: &Asked) -> Response {
    let whole = trace::trace(&asked.bytes, &[]);
    let split = asked.cuts.as_ref().map(|cuts| {
        let t = trace::trace(&asked.bytes, cuts);
        (cuts, t)
    });
    let mut data = result_json(&asked.bytes, &whole);
    data["split"] = match &split {
        None => Value::Null,
        Some((cuts, t)) => {
            let same = whole.same_as(t);
            let mut bounds = vec![0];
            bounds.extend(cuts.iter().copied());
            bounds.push(asked.bytes.len());
            let pieces: Vec<Value> = bounds
                .windows(2)
                .take(trace::MAX_EVENTS)
                .map(|w| json!([w[0], w[1]]))
                .collect();
            json!({
                "at": cuts.iter().take(trace::MAX_EVENTS).collect::<Vec<_>>(),
                "pieces": pieces,
                "count": cuts.len() + 1,
                "same": same,
                // Only when they differ (they never should): the split run's result.
                "result": if same { Value::Null } else { result_json(&asked.bytes, t) },
            })
        }
    };
    if answers_json(req) {
        return json_response(status, &data).header("Vary", "Accept");
    }
    let mark = whole.error.map(|e| e.off);
    let mut context = data;
    let extra = json!({
        "text": asked.text,
        "split_text": asked.split_text,
        "shown": shown_input(&asked.bytes, mark),
        "lines": lines(&whole),
        "split_lines": split.as_ref().filter(|(_, t)| !whole.same_as(t)).map(|(_, t)| lines(t)),
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut context, extra) {
        c.extend(e);
    }
    page(app, status, &context)
}

/// The JSON of one run (documented in docs/parse.md).
fn result_json(input: &[u8], t: &Traced) -> Value {
    let events: Vec<Value> = t.events.iter().map(event_json).collect();
    json!({
        "bytes": input.len(),
        "messages": t.messages,
        "events": events,
        "events_total": t.total,
        "error": t.error.map(|e| json!({
            "status": e.error.status(),
            "line": e.error.line,
            "byte": e.error.byte,
            "off": e.off,
            "msg": e.message,
            "message": e.error.to_string(),
        })),
        "waiting": t.waiting.as_ref().map(|w| json!({
            "for": w.what, "line": w.line, "off": w.off,
        })),
    })
}

fn event_json(e: &Located) -> Value {
    let mut v = json!({"off": e.off, "msg": e.message, "event": e.event.name()});
    let s = |b: &[u8]| Value::String(escape(b));
    match &e.event {
        TraceEvent::Method(b) | TraceEvent::Target(b) => {
            v["value"] = s(b);
        }
        TraceEvent::Header { name, value } | TraceEvent::Trailer { name, value } => {
            v["name"] = s(name);
            v["value"] = s(value);
        }
        TraceEvent::HeadComplete(body) => {
            v["body"] = match body {
                BodyFraming::None => json!("none"),
                BodyFraming::Length(n) => json!({"content_length": n}),
                BodyFraming::Chunked => json!("chunked"),
            };
        }
        TraceEvent::ChunkSize(n) => v["size"] = json!(n),
        TraceEvent::ChunkData(n) | TraceEvent::BodyData(n) | TraceEvent::PartData(n) => {
            v["len"] = json!(n);
        }
        TraceEvent::MessageComplete => {}
        TraceEvent::FormField { name, value } => {
            v["name"] = json!(name);
            v["value"] = json!(value);
        }
        TraceEvent::Part {
            name,
            filename,
            content_type,
        } => {
            v["name"] = json!(name);
            v["filename"] = json!(filename);
            v["content_type"] = json!(content_type);
        }
        TraceEvent::BodyError(m) => v["message"] = json!(m),
    }
    v
}

/// The events as the page lists them.
fn lines(t: &Traced) -> Value {
    let rows: Vec<Value> = t
        .events
        .iter()
        .map(|e| json!({"off": e.off, "msg": e.message, "text": e.event.to_string()}))
        .collect();
    json!({"rows": rows, "more": t.total - t.events.len() as u64})
}

/// The input as the page shows it, escaped (a real line break after each `\n`), in
/// three parts around the offending byte (`mark`), at most [`SHOWN_BYTES`] of it.
fn shown_input(input: &[u8], mark: Option<u64>) -> Value {
    let len = input.len();
    let at = mark.map(|m| (m as usize).min(len));
    let (from, to) = match at {
        Some(m) => {
            let from = m.saturating_sub(SHOWN_BYTES / 2);
            (from, (from + SHOWN_BYTES).min(len))
        }
        None => (0, SHOWN_BYTES.min(len)),
    };
    let text = |bytes: &[u8]| {
        let mut s = String::with_capacity(bytes.len());
        for &b in bytes {
            push_escaped(&mut s, b);
            if b == b'\n' {
                s.push('\n');
            }
        }
        s
    };
    let (before, marked, after) = match at {
        Some(m) if m < len => (
            text(&input[from..m]),
            Some(text(&input[m..m + 1])),
            text(&input[m + 1..to.max(m + 1)]),
        ),
        // The fault is past the last byte (a limit crossed at the end).
        Some(m) => (text(&input[from..m]), Some(String::new()), String::new()),
        None => (text(&input[from..to]), None, String::new()),
    };
    json!({
        "before": before, "mark": marked, "after": after,
        "skipped_before": from, "skipped_after": len - to.max(at.map_or(0, |m| (m + 1).min(len))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_offsets_are_checked() {
        assert_eq!(parse_split("", 10), Ok(None));
        assert_eq!(parse_split(" 5, 7 ", 10), Ok(Some(vec![5, 7])));
        let bad: &[(&str, usize, &str)] = &[
            ("x", 10, "\"x\" is not a byte offset"),
            ("5,", 10, "\"\" is not a byte offset"),
            ("-1", 10, "\"-1\" is not a byte offset"),
            (
                "0",
                10,
                "offset 0 is out of range: the input is 10 bytes, so a cut goes at 1 to 9",
            ),
            ("10", 10, "offset 10 is out of range"),
            (
                "1",
                1,
                "offset 1 is out of range: the input is 1 bytes, too short to cut",
            ),
            ("5,5", 10, "offsets must increase: 5 comes after 5"),
            ("6,2", 10, "offsets must increase: 2 comes after 6"),
        ];
        for (text, len, want) in bad {
            let e = parse_split(text, *len).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_example_is_the_spec_request() {
        assert_eq!(
            trace::unescape(EXAMPLE, false).unwrap(),
            b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        );
    }

    #[test]
    fn the_shown_input_marks_one_byte_and_stays_bounded() {
        let s = shown_input(b"GET /\x01 HTTP/1.1\r\n", Some(5));
        assert_eq!(s["before"], "GET /");
        assert_eq!(s["mark"], "\\x01");
        assert_eq!(s["after"], " HTTP/1.1\\r\\n\n");
        let big = vec![b'a'; 100_000];
        let s = shown_input(&big, Some(50_000));
        let shown = s["before"].as_str().unwrap().len() + 1 + s["after"].as_str().unwrap().len();
        assert_eq!(shown, SHOWN_BYTES);
        assert_eq!(s["skipped_before"], 50_000 - SHOWN_BYTES / 2);
        assert_eq!(
            s["skipped_after"],
            100_000 - (50_000 - SHOWN_BYTES / 2) - SHOWN_BYTES
        );
        let s = shown_input(b"ab", Some(2));
        assert_eq!(
            (s["before"].as_str(), s["mark"].as_str()),
            (Some("ab"), Some(""))
        );
    }
}
