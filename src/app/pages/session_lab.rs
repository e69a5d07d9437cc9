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
            if let Some(at) = context["expires"].as_u64() {
                context["expires_shown"] = json!(expiry_text(at, unix_now()));
            }
            context["site"] = crate::app::view::site(app, req);
            html(&app.templates, 200, "session.html", &context)
        }
    }
    .header("Vary", "Accept, Cookie")
}

/// An expiry for people: `2026-12-17 13:25:00 UTC (in 14 days)`, the distance rounded
/// to the largest unit that is at least two of it.
fn expiry_text(at: u64, now: u64) -> String {
    let date = crate::http::date::utc_datetime(at);
    let Some(left) = at.checked_sub(now) else {
        return format!("{date} UTC (passed)");
    };
    let round = |unit: u64| (left + unit / 2) / unit;
    let distance = match left {
        0..120 => format!("{left} seconds"),
        120..7_200 => format!("{} minutes", round(60)),
        7_200..172_800 => format!("{} hours", round(3_600)),
        _ => format!("{} days", round(86_400)),
    };
    format!("{date} UTC (in {distance})")
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

#[cfg(test)]
mod tests {
    use super::expiry_text;

    #[test]
    fn expiry_reads_as_a_date_and_a_distance() {
        let now = 1_796_304_300; // 2026-12-03 13:25:00
        assert_eq!(
            expiry_text(now + 14 * 86_400 - 3, now),
            "2026-12-17 13:24:57 UTC (in 14 days)"
        );
        assert_eq!(
            expiry_text(now + 90, now),
            "2026-12-03 13:26:30 UTC (in 90 seconds)"
        );
        assert_eq!(
            expiry_text(now + 3 * 3600, now),
            "2026-12-03 16:25:00 UTC (in 3 hours)"
        );
        assert_eq!(
            expiry_text(now - 1, now),
            "2026-12-03 13:24:59 UTC (passed)"
        );
    }
}
