//! `/user/register/`, `/user/login/`, `/user/logout/`, `/user/`: the lecture notes'
//! registration and login chapters (SPEC "Registration and login").
//!
//! Every POST that changes something answers `302 Found` (post/redirect/get: a
//! refresh then repeats the harmless GET, not the POST), and only once its writes are
//! durable: the registration's user record and the session that logs the new user in
//! are both fsynced before the 302 leaves. Password hashing (Argon2id, tens of ms)
//! runs on the blocking pool.

use crate::app::forms::{form_fields, redirect, store_error};
use crate::app::html::{escape, page};
use crate::app::negotiate::{Format, format};
use crate::app::session::Session;
use crate::app::users::{self, UserError};
use crate::app::{App, Body, Reply, Request, Response, unix_now};
use crate::store::db::Store;
use serde_json::json;

/// The session key holding the logged-in username.
pub const USER_KEY: &str = "_auth_user";

fn form_page(
    fmt: Format,
    status: u16,
    which: &str,
    error: Option<&str>,
    username: &str,
) -> Response {
    if fmt == Format::Json {
        let mut body = serde_json::to_vec_pretty(&json!({
            "form": which,
            "fields": if which == "login" { json!(["username", "password", "remember"]) }
                      else { json!(["username", "password"]) },
            "error": error,
        }))
        .unwrap_or_default();
        body.push(b'\n');
        return Response::new(status, "application/json", Body::Bytes(body));
    }
    let (title, action, extra) = if which == "login" {
        (
            "Log in",
            "/user/login/",
            "<p><label><input type=\"checkbox\" name=\"remember\" value=\"1\"> Remember me \
             (a cookie that outlives the browser)</label></p>\n",
        )
    } else {
        ("Register", "/user/register/", "")
    };
    let error_html = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let other = if which == "login" {
        "<p>No account yet? <a href=\"/user/register/\">Register</a>.</p>"
    } else {
        "<p>Already registered? <a href=\"/user/login/\">Log in</a>.</p>"
    };
    let body = format!(
        "<h1>{title}</h1>\n{error_html}<form method=\"post\" action=\"{action}\">\n\
<p><label>Username <input name=\"username\" value=\"{}\" maxlength=\"32\" required></label></p>\n\
<p><label>Password <input type=\"password\" name=\"password\" required></label></p>\n\
{extra}<p><button type=\"submit\">{title}</button></p>\n</form>\n{other}",
        escape(username)
    );
    Response::new(
        status,
        "text/html; charset=utf-8",
        Body::Bytes(page(title, &body).into_bytes()),
    )
    .header("Vary", "Accept")
}

pub fn register_form(req: &Request<'_>) -> Response {
    form_page(format(req.header("accept")), 200, "register", None, "")
}

pub fn login_form(req: &Request<'_>) -> Response {
    form_page(format(req.header("accept")), 200, "login", None, "")
}

fn refused(fmt: Format, which: &str, e: UserError, username: &str) -> Response {
    match e {
        UserError::Invalid(why) => form_page(fmt, 400, which, Some(why), username),
        UserError::Exists => form_page(fmt, 409, which, Some("user already exists"), username),
        UserError::BadCredentials => form_page(
            fmt,
            400,
            which,
            Some("username or password is wrong"),
            username,
        ),
        UserError::Store(e) => store_error(e),
    }
}

/// Log `username` in on `session` (new key: no fixation) and answer 302 once durable.
/// Blocking (pool thread).
fn log_in_and_redirect(
    store: &Store,
    mut session: Session,
    username: &str,
    remember: bool,
    wait_for: Option<crate::store::db::Ticket>,
) -> Response {
    if session.get(USER_KEY).and_then(|v| v.as_str()) != Some(username)
        && session.get(USER_KEY).is_some()
    {
        // Someone else was logged in on this browser: start clean (Django does too).
        session.flush();
    }
    session.cycle_key();
    session.set(USER_KEY, json!(username));
    session.set_expiry(if remember {
        crate::app::session::DEFAULT_AGE
    } else {
        0
    });
    let saved = match session.save(store, unix_now()) {
        Ok(s) => s,
        Err(e) => return store_error(e),
    };
    for t in wait_for.into_iter().chain(saved.ticket) {
        if let Err(e) = store.wait_durable(t) {
            return store_error(e);
        }
    }
    let mut resp = redirect("/user/");
    if let Some(c) = saved.set_cookie {
        resp = resp.header("Set-Cookie", c);
    }
    resp
}

pub fn register(app: &App, req: &Request<'_>) -> Reply {
    let fields = match form_fields(req) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let fmt = format(req.header("accept"));
    let username = fields.get("username").unwrap_or("").to_string();
    let password = fields.get("password").unwrap_or("").to_string();
    if let Err(e) =
        users::validate_username(&username).and_then(|()| users::validate_password(&password))
    {
        return refused(fmt, "register", e, &username).into();
    }
    let session = Session::load(&app.store, req, unix_now());
    let store = app.store.clone();
    Reply::Later(Box::new(move || {
        match users::register(&store, &username, &password, unix_now()) {
            Ok(ticket) => log_in_and_redirect(&store, session, &username, false, Some(ticket)),
            Err(e) => refused(fmt, "register", e, &username),
        }
    }))
}

pub fn login(app: &App, req: &Request<'_>) -> Reply {
    let fields = match form_fields(req) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let fmt = format(req.header("accept"));
    let username = fields.get("username").unwrap_or("").to_string();
    let password = fields.get("password").unwrap_or("").to_string();
    let remember = matches!(
        fields.get("remember"),
        Some(v) if !v.is_empty() && v != "0" && v != "off" && v != "false"
    );
    if let Err(e) =
        users::validate_username(&username).and_then(|()| users::validate_password(&password))
    {
        return refused(fmt, "login", e, &username).into();
    }
    let session = Session::load(&app.store, req, unix_now());
    let store = app.store.clone();
    Reply::Later(Box::new(move || {
        match users::authenticate(&store, &username, &password) {
            Ok(()) => log_in_and_redirect(&store, session, &username, remember, None),
            Err(e) => refused(fmt, "login", e, &username),
        }
    }))
}

pub fn logout(app: &App, req: &Request<'_>) -> Reply {
    let mut session = Session::load(&app.store, req, unix_now());
    session.flush();
    crate::app::forms::save_then(app, &mut session, redirect("/"))
}

/// `GET /user/`: who is logged in: `{"username": "ada"}`, or `null`.
pub fn whoami(app: &App, req: &Request<'_>) -> Response {
    let session = Session::load(&app.store, req, unix_now());
    let user = session.get(USER_KEY).and_then(|v| v.as_str());
    match format(req.header("accept")) {
        Format::Json => {
            let v = match user {
                Some(u) => json!({"username": u}),
                None => serde_json::Value::Null,
            };
            let mut body = serde_json::to_vec(&v).unwrap_or_default();
            body.push(b'\n');
            Response::new(200, "application/json", Body::Bytes(body))
        }
        Format::Html => {
            let body = match user {
                Some(u) => format!(
                    "<h1>Hello, {}</h1>\n<p>You are logged in. The server knows it from your \
                     <code>sessionid</code> cookie, which names a record in its session table.</p>\n\
                     <form method=\"post\" action=\"/user/logout/\"><button type=\"submit\">Log out</button></form>",
                    escape(u)
                ),
                None => "<h1>Nobody is logged in</h1>\n<p><a href=\"/user/login/\">Log in</a> or \
                         <a href=\"/user/register/\">register</a>.</p>"
                    .to_string(),
            };
            Response::new(
                200,
                "text/html; charset=utf-8",
                Body::Bytes(page("You", &body).into_bytes()),
            )
        }
    }
    .header("Vary", "Accept, Cookie")
}
