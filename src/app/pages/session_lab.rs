//! `/session/`: the session inspector (SPEC "Sessions"): see the session this browser
//! has, and change it one action at a time.
//!
//! `POST` actions (urlencoded): `action=set&key=K&value=V` (V is parsed as JSON, else
//! kept as a string), `action=delete&key=K`, `action=clear` (the record and the cookie
//! go), `action=expiry&seconds=N` (0: until the browser closes). Each answers 302 back
//! to `/session/` once the change is durable.
//!
//! What a client may write here is data, never identity: keys beginning with `_` are
//! refused (400), and a value past the session bounds (`session.rs`) gets 413 before
//! anything is written. `clear` removes the login record with everything else: it
//! logs the browser out, as Django's `flush` does.

use crate::app::App;
use crate::app::exchange::unix_now;
use crate::app::exchange::{Body, Reply, Request, Response};
use crate::app::forms::{form_fields, redirect, save_then};
use crate::app::session::{COOKIE, Session};
use crate::app::view::{html, shown_cookie};
use crate::http::Problem;
use crate::http::accept::{Format, format};
use serde_json::{Value, json};

/// Longest session key name a form may set.
pub(crate) const MAX_KEY: usize = 128;
/// Largest expiry a form may ask for: ten years, in seconds.
pub(crate) const MAX_EXPIRY: u64 = 10 * 365 * 86_400;

pub(crate) fn view(app: &App, req: &Request<'_>) -> Response {
    let session = Session::load(&app.sessions, req, unix_now());
    // The key as every page shows the sessionid: its start only (view::shown_cookie).
    let mut shown = session.to_json();
    if let Some(key) = shown["key"].as_str() {
        shown["key"] = json!(shown_cookie(COOKIE, key));
    }
    match format(req.header("accept")) {
        Format::Json => {
            let mut body = serde_json::to_vec_pretty(&shown).unwrap_or_default();
            body.push(b'\n');
            Response::new(200, "application/json", Body::Bytes(body))
        }
        Format::Html => {
            // The template's context: the JSON data, plus each value as JSON text.
            let rows: Vec<Value> = session
                .data()
                .iter()
                .map(|(k, v)| json!({"key": k, "json": v.to_string()}))
                .collect();
            let mut context = shown;
            context["rows"] = Value::Array(rows);
            html(&app.templates, 200, "session.html", &context)
        }
    }
    .header("Vary", "Accept, Cookie")
}

pub(crate) fn act(app: &App, req: &Request<'_>) -> Reply {
    let fields = match form_fields(app, req) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let mut session = Session::load(&app.sessions, req, unix_now());
    let key = fields.get("key").unwrap_or("");
    let bad = |msg: &str| Reply::from(app.problem_for(req, Problem::new(400, msg)));
    match fields.get("action").unwrap_or("") {
        "set" | "delete" if key.is_empty() || key.len() > MAX_KEY => {
            return bad("key must be 1 to 128 bytes");
        }
        "set" | "delete" if key.starts_with('_') => {
            // The login record (`_auth_user_id`, `_auth_user_hash`) is the server's:
            // written here, it let anyone log in as anyone (issue 11).
            return bad(&format!(
                "key {key:?} begins with \"_\": those keys are the server's (the login \
                 record) and can't be set or deleted here"
            ));
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
    save_then(app, req, &mut session, redirect("/session/"))
}
