//! `/session/`: the session inspector (SPEC "Sessions"): see the session this browser
//! has, and change it one action at a time.
//!
//! `POST` actions (urlencoded): `action=set&key=K&value=V` (V is parsed as JSON, else
//! kept as a string), `action=delete&key=K`, `action=clear` (the record and the cookie
//! go), `action=expiry&seconds=N` (0: until the browser closes). Each answers 302 back
//! to `/session/` once the change is durable.

use crate::app::forms::{form_fields, redirect, save_then};
use crate::app::html::{escape, page};
use crate::app::negotiate::{Format, format};
use crate::app::session::Session;
use crate::app::{App, Body, Reply, Request, Response, unix_now};
use serde_json::Value;

/// Longest session key name a form may set.
pub const MAX_KEY: usize = 128;
/// Largest expiry a form may ask for: ten years, in seconds.
pub const MAX_EXPIRY: u64 = 10 * 365 * 86_400;

pub fn view(app: &App, req: &Request<'_>) -> Response {
    let session = Session::load(&app.store, req, unix_now());
    match format(req.header("accept")) {
        Format::Json => {
            let mut body = serde_json::to_vec_pretty(&session.to_json()).unwrap_or_default();
            body.push(b'\n');
            Response::new(200, "application/json", Body::Bytes(body))
        }
        Format::Html => {
            let mut rows = String::new();
            for (k, v) in session.data() {
                rows.push_str(&format!(
                    "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
                    escape(k),
                    escape(&v.to_string())
                ));
            }
            let key = session
                .key()
                .map(|k| format!("<code>{}</code>", escape(k)))
                .unwrap_or_else(|| {
                    "none yet (a session is created when something is stored)".into()
                });
            let expires = match session.expires() {
                Some(e) if session.browser_session() => {
                    format!("when the browser closes (server-side at unix time {e})")
                }
                Some(e) => format!("unix time {e}"),
                None => "-".into(),
            };
            let body = format!(
                "<h1>Your session</h1>\n<p>Key: {key}<br>Expires: {expires}</p>\n\
<table>\n<tr><th>key</th><th>value (JSON)</th></tr>\n{rows}</table>\n\
<h2>Change it</h2>\n\
<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"set\">\
<label>key <input name=\"key\" required></label> <label>value <input name=\"value\"></label> \
<button>Set</button></form>\n\
<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"delete\">\
<label>key <input name=\"key\" required></label> <button>Delete</button></form>\n\
<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"expiry\">\
<label>seconds <input name=\"seconds\" value=\"0\" inputmode=\"numeric\"></label> \
<button>Set expiry</button> (0: until the browser closes)</form>\n\
<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"clear\">\
<button>Clear the session</button></form>"
            );
            Response::new(
                200,
                "text/html; charset=utf-8",
                Body::Bytes(page("Session", &body).into_bytes()),
            )
        }
    }
    .header("Vary", "Accept, Cookie")
}

pub fn act(app: &App, req: &Request<'_>) -> Reply {
    let fields = match form_fields(req) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let mut session = Session::load(&app.store, req, unix_now());
    let key = fields.get("key").unwrap_or("");
    let bad = |msg: &str| Reply::from(Response::text_error(400, msg));
    match fields.get("action").unwrap_or("") {
        "set" | "delete" if key.is_empty() || key.len() > MAX_KEY => {
            return bad("key must be 1 to 128 bytes");
        }
        "set" => {
            let raw = fields.get("value").unwrap_or("");
            let value = serde_json::from_str::<Value>(raw)
                .unwrap_or_else(|_| Value::String(raw.to_string()));
            session.set(key, value);
        }
        "delete" => {
            session.remove(key);
        }
        "clear" => session.flush(),
        "expiry" => match fields
            .get("seconds")
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(n) if n <= MAX_EXPIRY => session.set_expiry(n),
            _ => return bad("seconds must be a whole number from 0 to 315360000"),
        },
        other => {
            return bad(&format!(
                "unknown action {other:?}: use set, delete, clear or expiry"
            ));
        }
    }
    save_then(app, &mut session, redirect("/session/"))
}
