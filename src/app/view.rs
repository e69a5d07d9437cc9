//! What the template pages share: one set of data answered as HTML (a template from
//! `www/templates/`) or as JSON (the data itself), per the request's `Accept`; error
//! pages; the cookies of a request.

use crate::app::App;
use crate::app::exchange::{Body, Request, Response};
use crate::app::templates::Templates;
use crate::http::Problem;
use crate::http::accept::{ErrorFormat, Format, error_format, format};
use crate::http::cookie::parse_cookie_header;
use serde_json::{Value, json};

impl App {
    /// Answer `p` in the client's format by its `Accept` field (HTML, JSON or text:
    /// [`view::problem_response`]). Every error answer of the server goes through
    /// here: the pages' and the connection's (parse errors, 408, 413).
    pub(crate) fn problem(&self, p: &Problem, accept: Option<&[u8]>) -> Response {
        problem_response(&self.templates, p, error_format(accept), None)
    }

    /// [`App::problem`] with the request's own `Accept`.
    pub(crate) fn problem_for(&self, req: &Request<'_>, p: Problem) -> Response {
        self.problem(&p, req.header("accept"))
    }
}

/// Does the page's content depend on the request's cookies (`Vary: Cookie`)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vary {
    Accept,
    AcceptCookie,
}

/// `data` as pretty JSON with a final newline.
pub(crate) fn json_response(status: u16, data: &Value) -> Response {
    let mut body = serde_json::to_vec_pretty(data).unwrap_or_default();
    body.push(b'\n');
    Response::new(status, "application/json", Body::Bytes(body))
}

/// Whether a `Host` value is plain enough to print as this site's address: a DNS
/// name or IPv4 address (letters, digits, `.`, `-`) or a bracketed IPv6 address, then
/// an optional `:port`; at most 255 bytes. Anything else (quotes, spaces, `@`, `/`)
/// is not shown back.
fn plain_host(host: &[u8]) -> bool {
    if host.is_empty() || host.len() > 255 {
        return false;
    }
    let name = crate::app::hosts::host_name(host);
    let port = &host[name.len()..];
    let name_ok = match name.strip_prefix(b"[").and_then(|n| n.strip_suffix(b"]")) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .iter()
                    .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        None => {
            !name.is_empty()
                && name
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
    };
    let port_ok = match port.strip_prefix(b":") {
        None => port.is_empty(),
        Some(p) => {
            p.iter().all(u8::is_ascii_digit)
                && std::str::from_utf8(p).is_ok_and(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
        }
    };
    name_ok && port_ok
}

/// This site's address as the client named it, for the pages' examples:
/// `{"origin": "http://example.test:9", "nc": "example.test 9"}`. From the request's
/// `Host` when it is [plain](plain_host), else from the listen address. The
/// templates escape it like any value.
pub(crate) fn site(app: &App, req: &Request<'_>) -> Value {
    let host = match req.header("host") {
        Some(h) if plain_host(h) => String::from_utf8_lossy(h).into_owned(),
        _ => app.listen.clone(),
    };
    let name = crate::app::hosts::host_name(host.as_bytes()).len();
    let (name, port) = host.split_at(name);
    let port = port.strip_prefix(':').unwrap_or("80");
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    json!({"origin": format!("http://{host}"), "nc": format!("{bare} {port}")})
}

/// Answer `data`: rendered through `template` for HTML, as it is for JSON.
pub(crate) fn respond(
    app: &App,
    req: &Request<'_>,
    status: u16,
    template: &str,
    data: &Value,
    vary: Vary,
) -> Response {
    respond_extra(app, req, status, template, data, json!({}), vary)
}

/// [`respond`], with `extra` keys (links, form state: presentation, not data) added
/// to the template's context only.
pub(crate) fn respond_extra(
    app: &App,
    req: &Request<'_>,
    status: u16,
    template: &str,
    data: &Value,
    extra: Value,
    vary: Vary,
) -> Response {
    let fmt = format(req.header("accept"));
    if fmt == Format::Json {
        return respond_as(&app.templates, fmt, status, template, data, vary);
    }
    let mut context = data.clone();
    if let (Value::Object(c), Value::Object(e)) = (&mut context, extra) {
        c.insert("site".to_string(), site(app, req));
        c.extend(e);
    }
    respond_as(&app.templates, fmt, status, template, &context, vary)
}

/// [`respond`] for a format already decided (e.g. on a pool thread, away from the
/// request).
pub(crate) fn respond_as(
    templates: &Templates,
    fmt: Format,
    status: u16,
    template: &str,
    data: &Value,
    vary: Vary,
) -> Response {
    let resp = match fmt {
        Format::Json => json_response(status, data),
        Format::Html => html(templates, status, template, data),
    };
    resp.header(
        "Vary",
        match vary {
            Vary::Accept => "Accept",
            Vary::AcceptCookie => "Accept, Cookie",
        },
    )
}

/// `template` rendered with `context`, as an HTML response (no `Vary`: for pages whose
/// JSON form is not the template's context).
///
/// A template that fails at run time (it compiled at start, so a bug such as a filter
/// given the wrong type) is logged with its file and line and answered as a plain
/// `500`: the error goes to the log, not to the client.
pub(crate) fn html(
    templates: &Templates,
    status: u16,
    template: &str,
    context: &Value,
) -> Response {
    match templates.render(template, context) {
        Ok(page) => Response::new(
            status,
            "text/html; charset=utf-8",
            Body::Bytes(page.into_bytes()),
        ),
        Err(e) => {
            log::error!("template error: {e}");
            Response::new(
                500,
                "text/plain; charset=utf-8",
                Body::Bytes(b"500 Internal Server Error: a page template failed\n".to_vec()),
            )
        }
    }
}

/// An error in the client's format ([`error_format`]): the site's `error.html` page
/// (reason, offending bytes shown escaped, a way back), JSON
/// `{"status": 400, "error": "…"}`, or the plain-text line.
pub(crate) fn problem_response(
    templates: &Templates,
    p: &Problem,
    fmt: ErrorFormat,
    back: Option<(&str, &str)>,
) -> Response {
    let resp = match fmt {
        ErrorFormat::Text => {
            return Response::new(
                p.status,
                "text/plain; charset=utf-8",
                Body::Bytes(p.to_text().into_bytes()),
            );
        }
        ErrorFormat::Json => Response::new(
            p.status,
            "application/json",
            Body::Bytes(p.to_json().into_bytes()),
        ),
        ErrorFormat::Html => {
            let data = json!({
                "status": p.status,
                "reason": p.reason(),
                "error": p.message,
                "offending": p.offending.as_deref().map(|b| String::from_utf8_lossy(b).into_owned()),
                "back": back.map(|(href, title)| json!({"href": href, "title": title})),
            });
            html(templates, p.status, "error.html", &data)
        }
    };
    resp.header("Vary", "Accept")
}

/// An error of an HTML page (a product that does not exist, a cart form refused),
/// with a link back: HTML like the page itself, also without `Accept`; JSON to a
/// client that prefers it (as every page answers, [`format`]).
pub(crate) fn error_page(
    app: &App,
    req: &Request<'_>,
    status: u16,
    message: &str,
    back: Option<(&str, &str)>,
) -> Response {
    problem_response(
        &app.templates,
        &Problem::new(status, message),
        match format(req.header("accept")) {
            Format::Html => ErrorFormat::Html,
            Format::Json => ErrorFormat::Json,
        },
        back,
    )
}

/// How much of the `sessionid` a page body shows (SPEC "Security and bounds").
pub(crate) const SHOWN_ID_CHARS: usize = 6;

/// A cookie's value as a page shows it: the `sessionid` (HttpOnly, so that scripts
/// never read it) cut to its first [`SHOWN_ID_CHARS`] characters and `…`, or a
/// script on any page that reads the body (an XSS, a bad extension) would have the
/// whole key of the session. Every other cookie as it came.
pub(crate) fn shown_cookie(name: &str, value: &str) -> String {
    if name == crate::app::session::COOKIE {
        let start: String = value.chars().take(SHOWN_ID_CHARS).collect();
        format!("{start}…")
    } else {
        value.to_string()
    }
}

/// A raw `Cookie` field as a page shows it: the bytes as sent, but the value of each
/// `sessionid=` pair cut by [`shown_cookie`].
pub(crate) fn shown_cookie_field(raw: &str) -> String {
    let pairs: Vec<String> = raw
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if name.trim() == crate::app::session::COOKIE => {
                format!("{name}={}", shown_cookie(name.trim(), value.trim()))
            }
            _ => pair.to_string(),
        })
        .collect();
    pairs.join(";")
}

/// Every cookie the request sent, in order, across all its `Cookie` fields (parsed
/// leniently: see `http::cookie`), values as a page shows them ([`shown_cookie`]).
pub(crate) fn request_cookies(req: &Request<'_>) -> Vec<(String, String)> {
    req.head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| parse_cookie_header(v))
        .map(|(k, v)| {
            let shown = shown_cookie(&k, &v);
            (k, shown)
        })
        .collect()
}

/// The request's `Cookie` field as sent (several joined with `; `), if any, as a page
/// shows it ([`shown_cookie_field`]).
pub(crate) fn cookie_header(req: &Request<'_>) -> Option<String> {
    let values: Vec<String> = req
        .head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .map(|(_, v)| shown_cookie_field(&String::from_utf8_lossy(v)))
        .collect();
    (!values.is_empty()).then(|| values.join("; "))
}

/// The first cookie called `name` (SPEC: for a repeated name the first one counts).
pub(crate) fn first_cookie(req: &Request<'_>, name: &str) -> Option<String> {
    req.head
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| parse_cookie_header(v))
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
