//! `/cookies/…`: the cookie lab. Every path under `/cookies/` is the same page, so a
//! learner can watch path scoping happen: a cookie set with `Path=/cookies/a/` is
//! sent with the request for `/cookies/a/x`, and not with the one for `/cookies/b/`.
//!
//! - `GET` shows the cookies the browser sent with **this** request (parsed from its
//!   `Cookie` field, duplicates and order kept), the field as it came, and links to a
//!   parent, a sub-path and a sibling. JSON: `{"path": "/cookies/a/x", "cookies":
//!   {"name": "value"}, "sent": [{"name", "value"}…], "header": "…",
//!   "default_path": "/cookies/a"}` (`cookies`: the first of a repeated name; `sent`:
//!   all, in order; the links and the form are the HTML page's, not data).
//! - `POST` (to the same path) sets one cookie from the form: `name`, `value`,
//!   `max_age` (seconds, may be negative: expire now), `expires` (**seconds from now**,
//!   turned into a date by the server, so nobody has to type an IMF-fixdate; negative
//!   gives a date in the past, which deletes), `path`, `domain`, `httponly` and `secure`
//!   (checkboxes), `samesite` (`Lax`, `Strict`, `None` or empty). Empty fields leave
//!   their attribute out. Anything `SetCookie` refuses (a name that is not a token, a
//!   value outside cookie-octets, a path not starting with `/`, a bad domain) is a
//!   400 with the reason, the form shown again with what was typed. Success: 302 back
//!   to the same path, with the `Set-Cookie`.
//! - `SameSite=None` without `Secure` is refused by browsers, so `SetCookie` adds
//!   `Secure` to it; over plain `http://` a browser keeps a `Secure` cookie only from
//!   `localhost`-like hosts (the page says so).

use crate::app::App;
use crate::app::exchange::unix_now;
use crate::app::exchange::{Reply, Request, Response};
use crate::app::forms::{form_fields, redirect};
use crate::app::view::{Vary, cookie_header, request_cookies, respond_extra};
use crate::http::cookie::{SameSite, SetCookie};
use crate::http::query::MultiMap;
use serde_json::{Map, Value, json};

/// The paths the page links to, to show scoping.
pub(crate) const LINKS: &[&str] = &["/cookies/", "/cookies/a/", "/cookies/a/x", "/cookies/b/"];

/// Largest `max_age` or `expires` the form takes, either way: ten years, in seconds
/// (browsers cap a cookie's life at 400 days anyway, RFC 6265bis §5.6.1).
pub(crate) const MAX_SECONDS: i64 = 10 * 365 * 86_400;

/// RFC 6265 §5.1.4: the path a cookie set without `Path` gets from the request URL:
/// everything up to, not including, the last `/` (or `/` when that leaves nothing).
pub(crate) fn default_path(request_path: &str) -> &str {
    match request_path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &request_path[..i],
    }
}

/// What the form holds (as typed), for showing it again after an error.
#[derive(Debug, Default, Clone)]
struct Form {
    name: String,
    value: String,
    max_age: String,
    expires: String,
    path: String,
    domain: String,
    httponly: bool,
    secure: bool,
    samesite: String,
}

fn checked(fields: &MultiMap, name: &str) -> bool {
    matches!(fields.get(name), Some(v) if !matches!(v, "" | "0" | "off" | "false"))
}

impl Form {
    fn from_fields(f: &MultiMap) -> Form {
        let text = |n: &str| f.get(n).unwrap_or("").to_string();
        Form {
            name: text("name"),
            value: text("value"),
            max_age: text("max_age"),
            expires: text("expires"),
            path: text("path"),
            domain: text("domain"),
            httponly: checked(f, "httponly"),
            secure: checked(f, "secure"),
            samesite: text("samesite"),
        }
    }

    fn to_json(&self) -> Value {
        let options: Vec<Value> = [("", "(not set)"), ("Lax", "Lax"), ("Strict", "Strict"), ("None", "None")]
            .iter()
            .map(|(v, label)| {
                json!({"value": v, "label": label, "selected": self.samesite.eq_ignore_ascii_case(v)})
            })
            .collect();
        json!({
            "name": self.name, "value": self.value, "max_age": self.max_age,
            "expires": self.expires, "path": self.path, "domain": self.domain,
            "httponly": self.httponly, "secure": self.secure, "samesite": self.samesite,
            "samesite_options": options,
        })
    }

    /// The cookie the form asks for, or why not.
    fn build(&self, now: u64) -> Result<SetCookie, String> {
        let seconds = |field: &str, s: &str| -> Result<Option<i64>, String> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<i64>()
                .ok()
                // `unsigned_abs`: `i64::MIN.abs()` overflows (a panic in debug
                // builds, i64::MIN itself, so "in range", in release ones).
                .filter(|n| n.unsigned_abs() <= MAX_SECONDS.unsigned_abs())
                .map(Some)
                .ok_or_else(|| {
                    format!("{field} must be a whole number of seconds (at most ten years either way), not {s:?}")
                })
        };
        let mut c = SetCookie::new(self.name.trim(), &self.value)
            .map_err(|e| format!("{e} (got name {:?}, value {:?})", self.name, self.value))?;
        if let Some(n) = seconds("max_age", &self.max_age)? {
            c = c.max_age(n);
        }
        if let Some(n) = seconds("expires", &self.expires)? {
            c = c.expires(now.saturating_add_signed(n));
        }
        let path = self.path.trim();
        if !path.is_empty() {
            c = c.path(path).map_err(|e| format!("{e} (got {path:?})"))?;
        }
        let domain = self.domain.trim();
        if !domain.is_empty() {
            c = c
                .domain(domain)
                .map_err(|e| format!("{e} (got {domain:?})"))?;
        }
        if self.secure {
            c = c.secure();
        }
        if self.httponly {
            c = c.http_only();
        }
        c = match self.samesite.trim().to_ascii_lowercase().as_str() {
            "" => c,
            "lax" => c.same_site(SameSite::Lax),
            "strict" => c.same_site(SameSite::Strict),
            "none" => c.same_site(SameSite::None),
            other => {
                return Err(format!(
                    "samesite must be Lax, Strict, None or empty, not {other:?}"
                ));
            }
        };
        Ok(c)
    }
}

/// The page's data (and JSON): this request's cookies, and an error if any.
fn data(req: &Request<'_>, error: Option<&str>) -> Value {
    let path = req.path();
    let sent = request_cookies(req);
    let mut cookies = Map::new();
    for (k, v) in &sent {
        if !cookies.contains_key(k) {
            cookies.insert(k.clone(), json!(v));
        }
    }
    let sent: Vec<Value> = sent
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let mut d = json!({
        "path": path,
        "cookies": cookies,
        "sent": sent,
        "header": cookie_header(req),
        "default_path": default_path(path),
    });
    if let Some(e) = error {
        d["error"] = json!(e);
    }
    d
}

/// What the HTML page shows besides the data: links to other paths, the form.
fn extra(req: &Request<'_>, form: &Form) -> Value {
    let links: Vec<Value> = LINKS
        .iter()
        .map(|l| json!({"href": l, "current": *l == req.path()}))
        .collect();
    json!({"links": links, "form": form.to_json()})
}

fn initial_form() -> Form {
    Form {
        samesite: "Lax".into(),
        ..Form::default()
    }
}

/// `GET /cookies/…`.
pub(crate) fn view(app: &App, req: &Request<'_>) -> Response {
    let (d, mut x) = (data(req, None), extra(req, &initial_form()));
    x["just_sent"] = json!(just_sent(app, req));
    respond_extra(app, req, 200, "cookies.html", &d, x, Vary::AcceptCookie)
}

/// The `Set-Cookie` fields of this client's previous exchange, when it was a POST to
/// the lab (the form's, before its 302 led here), from the wire log, as sent (but
/// for a `sessionid` value, cut).
fn just_sent(app: &App, req: &Request<'_>) -> Vec<String> {
    let Some(prev) = app.wire.previous_page(req.peer.map(|p| p.ip())) else {
        return Vec::new();
    };
    if !prev.request_head.starts_with(b"POST /cookies/") {
        return Vec::new();
    }
    crate::app::wire::shown_head(&prev.response_head)
        .lines()
        .filter(|l| l.len() > 11 && l[..11].eq_ignore_ascii_case("set-cookie:"))
        .map(str::to_string)
        .collect()
}

/// `POST /cookies/…`: set one cookie, 302 back here.
pub(crate) fn set(app: &App, req: &Request<'_>) -> Reply {
    let fields = match form_fields(app, req) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let form = Form::from_fields(&fields);
    match form.build(unix_now()) {
        Ok(cookie) => redirect(req.path())
            .header("Set-Cookie", cookie.to_string())
            .into(),
        Err(why) => {
            let (d, x) = (data(req, Some(&why)), extra(req, &form));
            respond_extra(app, req, 400, "cookies.html", &d, x, Vary::AcceptCookie).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        let mut f = initial_form();
        f.samesite.clear();
        for (k, v) in pairs {
            match *k {
                "name" => f.name = v.to_string(),
                "value" => f.value = v.to_string(),
                "max_age" => f.max_age = v.to_string(),
                "expires" => f.expires = v.to_string(),
                "path" => f.path = v.to_string(),
                "domain" => f.domain = v.to_string(),
                "httponly" => f.httponly = true,
                "secure" => f.secure = true,
                "samesite" => f.samesite = v.to_string(),
                _ => unreachable!(),
            }
        }
        f
    }

    #[test]
    fn default_paths() {
        assert_eq!(default_path("/cookies/a/x"), "/cookies/a");
        assert_eq!(default_path("/cookies/a/"), "/cookies/a");
        assert_eq!(default_path("/cookies/"), "/cookies");
        assert_eq!(default_path("/x"), "/");
        assert_eq!(default_path(""), "/");
    }

    #[test]
    fn builds_every_attribute() {
        let c = form(&[
            ("name", "flavour"),
            ("value", "oatmeal"),
            ("max_age", "60"),
            ("expires", "3600"),
            ("path", "/cookies/a/"),
            ("domain", "localhost"),
            ("httponly", "1"),
            ("samesite", "strict"),
        ])
        .build(1_700_000_000)
        .unwrap();
        assert_eq!(
            c.to_string(),
            "flavour=oatmeal; Max-Age=60; Expires=Tue, 14 Nov 2023 23:13:20 GMT; \
             Path=/cookies/a/; Domain=localhost; HttpOnly; SameSite=Strict"
        );
        let c = form(&[("name", "a"), ("value", "1"), ("samesite", "None")])
            .build(0)
            .unwrap();
        assert_eq!(c.to_string(), "a=1; Secure; SameSite=None");
        let c = form(&[("name", "a"), ("max_age", "-5"), ("expires", "-100")])
            .build(50)
            .unwrap();
        assert_eq!(
            c.to_string(),
            "a=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn refuses_what_would_break_the_header() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("name", "")], "cookie name"),
            (&[("name", "a b")], "cookie name"),
            (&[("name", "a"), ("value", "x;y")], "cookie value"),
            (
                &[("name", "a"), ("value", "x\r\nSet-Cookie: evil=1")],
                "cookie value",
            ),
            (&[("name", "a"), ("path", "cookies")], "cookie path"),
            (&[("name", "a"), ("path", "/a;b")], "cookie path"),
            (
                &[("name", "a"), ("domain", "exa mple.com")],
                "cookie domain",
            ),
            (&[("name", "a"), ("max_age", "soon")], "max_age must be"),
            (
                &[("name", "a"), ("expires", "Tue, 14 Nov 2023")],
                "expires must be",
            ),
            (
                &[("name", "a"), ("max_age", "99999999999")],
                "max_age must be",
            ),
            (
                &[("name", "a"), ("samesite", "sometimes")],
                "samesite must be",
            ),
        ];
        for (pairs, want) in cases {
            let e = form(pairs).build(0).unwrap_err();
            assert!(e.contains(want), "{pairs:?}: {e}");
        }
    }
}
