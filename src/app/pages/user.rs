//! `/user/register/`, `/user/login/`, `/user/logout/`, `/user/`: the lecture notes'
//! registration and login chapters (SPEC "Registration and login").
//!
//! Every POST that changes something answers `302 Found` (post/redirect/get: a
//! refresh then repeats the harmless GET, not the POST), and only once its writes are
//! durable: the registration's user record and the session that logs the new user in
//! are both fsynced before the 302 leaves. Password hashing (Argon2id, tens of ms)
//! runs on the application's hasher threads ([`crate::app::hasher`]).

use crate::app::App;
use crate::app::exchange::unix_now;
use crate::app::exchange::{Reply, Request, Response};
use crate::app::forms::{form_fields, redirect, save_error, store_error_as};
use crate::app::session::{Session, Sessions};
use crate::app::templates::Templates;
use crate::app::throttle::Throttle;
use crate::app::users::{self, SecretKey, User, UserError};
use crate::app::view::{html, json_response};
use crate::http::accept::ErrorFormat;
use crate::http::accept::{Format, format};
use crate::store::db::{Store, StoreError, Ticket};
use serde_json::json;
use std::sync::Arc;
use std::sync::Mutex;

fn form_page(
    templates: &Templates,
    fmt: Format,
    status: u16,
    which: &str,
    error: Option<&str>,
    username: &str,
) -> Response {
    let login = which == "login";
    if fmt == Format::Json {
        return json_response(
            status,
            &json!({
                "form": which,
                "fields": if login { json!(["username", "password", "remember"]) }
                          else { json!(["username", "password"]) },
                "error": error,
            }),
        );
    }
    let (title, action) = if login {
        ("Log in", "/user/login/")
    } else {
        ("Register", "/user/register/")
    };
    let context = json!({
        "title": title, "action": action, "login": login,
        "error": error, "username": username,
    });
    html(templates, status, "user_form.html", &context).header("Vary", "Accept")
}

pub(crate) fn register_form(app: &App, req: &Request<'_>) -> Response {
    form_page(
        &app.templates,
        format(req.header("accept")),
        200,
        "register",
        None,
        "",
    )
}

pub(crate) fn login_form(app: &App, req: &Request<'_>) -> Response {
    form_page(
        &app.templates,
        format(req.header("accept")),
        200,
        "login",
        None,
        "",
    )
}

/// The form pages answer their errors as they answer the form: HTML or JSON.
fn error_fmt(fmt: Format) -> ErrorFormat {
    match fmt {
        Format::Html => ErrorFormat::Html,
        Format::Json => ErrorFormat::Json,
    }
}

fn refused(
    templates: &Templates,
    fmt: Format,
    which: &str,
    e: UserError,
    username: &str,
) -> Response {
    match e {
        UserError::Invalid(why) => form_page(templates, fmt, 400, which, Some(why), username),
        UserError::Exists => form_page(
            templates,
            fmt,
            409,
            which,
            Some("user already exists"),
            username,
        ),
        UserError::BadCredentials => form_page(
            templates,
            fmt,
            400,
            which,
            Some("username or password is wrong"),
            username,
        ),
        UserError::Store(e) => store_error_as(templates, error_fmt(fmt), e),
    }
}

/// Log `user` in on `session` (new key: no fixation): the login record is the user's
/// id and the MAC of their password hash `phc` ([`users::logged_in`] checks both).
/// Answers 302 once the writes in `wait_for` and the session are durable. Never
/// blocks: the 302 waits in the store's callbacks, not in a thread.
#[allow(clippy::too_many_arguments)]
fn log_in_and_redirect(
    sessions: &Sessions,
    key: &SecretKey,
    mut session: Session,
    user: &User,
    phc: &str,
    remember: bool,
    wait_for: Option<Ticket>,
    errors: (Arc<Templates>, ErrorFormat),
) -> Reply {
    if session.get(users::ID_KEY).and_then(|v| v.as_str()) != Some(user.id.as_str())
        && session.get(users::ID_KEY).is_some()
    {
        // Someone else was logged in on this browser: start clean (Django does too).
        session.flush();
    }
    session.cycle_key();
    session.set(users::ID_KEY, json!(user.id));
    session.set(users::HASH_KEY, json!(users::session_hash(key, phc)));
    session.set_expiry(if remember {
        crate::app::session::DEFAULT_AGE
    } else {
        0
    });
    let saved = match session.save(sessions, unix_now()) {
        Ok(s) => s,
        Err(e) => return save_error(&errors.0, errors.1, e).into(),
    };
    let mut resp = redirect("/user/");
    if let Some(c) = saved.set_cookie {
        resp = resp.header("Set-Cookie", c);
    }
    let tickets: Vec<Ticket> = wait_for.into_iter().chain(saved.ticket).collect();
    if tickets.is_empty() {
        return resp.into();
    }
    let store = sessions.store().clone();
    Reply::Pending(Box::new(move |done| {
        when_durable(
            store,
            tickets,
            Box::new(move |r| {
                done(r.map_or_else(|e| store_error_as(&errors.0, errors.1, e), |()| resp))
            }),
        )
    }))
}

/// Call `then` once every ticket is durable (with the first failure, if any).
fn when_durable(
    store: Store,
    mut tickets: Vec<Ticket>,
    then: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
) {
    let Some(t) = tickets.pop() else {
        return then(Ok(()));
    };
    let s = store.clone();
    store.on_durable(
        t,
        Box::new(move |r| match r {
            Ok(()) => when_durable(s, tickets, then),
            Err(e) => then(Err(e)),
        }),
    );
}

/// A register or login form's fields: the answer format, username and password
/// (validated: a 400 with the form otherwise), and the `remember` box.
struct Credentials {
    fmt: Format,
    username: String,
    password: String,
    remember: bool,
}

fn credentials(app: &App, req: &Request<'_>, which: &str) -> Result<Credentials, Reply> {
    let fields = form_fields(app, req).map_err(Reply::from)?;
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
        return Err(refused(&app.templates, fmt, which, e, &username).into());
    }
    Ok(Credentials {
        fmt,
        username,
        password,
        remember,
    })
}

pub(crate) fn register(app: &App, req: &Request<'_>) -> Reply {
    let c = match credentials(app, req, "register") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let session = Session::load(&app.sessions, req, unix_now());
    let store = app.store.clone();
    let sessions = app.sessions.clone();
    let templates = app.templates.clone();
    let key = app.secret.clone();
    app.hasher.reply(Box::new(move |mem| {
        match users::register(mem, &store, &c.username, &c.password, unix_now()) {
            Ok((ticket, phc)) => {
                let user = User {
                    id: users::user_id(&c.username),
                    username: c.username.clone(),
                };
                log_in_and_redirect(
                    &sessions,
                    &key,
                    session,
                    &user,
                    &phc,
                    false,
                    Some(ticket),
                    (templates, error_fmt(c.fmt)),
                )
            }
            Err(e) => refused(&templates, c.fmt, "register", e, &c.username).into(),
        }
    }))
}

pub(crate) fn login(app: &App, req: &Request<'_>) -> Reply {
    let c = match credentials(app, req, "login") {
        Ok(c) => c,
        Err(r) => return r,
    };
    // The throttle answers before any Argon2 work: a locked account costs no hash.
    let id = users::user_id(&c.username);
    let addr = req.peer.map(|p| p.ip());
    let checked = lock(&app.throttle).check(&id, addr, unix_now());
    if let Err(secs) = checked {
        return form_page(
            &app.templates,
            c.fmt,
            429,
            "login",
            Some("too many failed logins: try again later (see Retry-After)"),
            &c.username,
        )
        .header("Retry-After", secs.to_string())
        .into();
    }
    let session = Session::load(&app.sessions, req, unix_now());
    let store = app.store.clone();
    let sessions = app.sessions.clone();
    let templates = app.templates.clone();
    let key = app.secret.clone();
    let throttle = app.throttle.clone();
    app.hasher.reply(Box::new(move |mem| {
        match users::authenticate(mem, &store, &c.username, &c.password) {
            Ok((user, phc)) => {
                lock(&throttle).success(&id);
                log_in_and_redirect(
                    &sessions,
                    &key,
                    session,
                    &user,
                    &phc,
                    c.remember,
                    None,
                    (templates, error_fmt(c.fmt)),
                )
            }
            Err(e) => {
                if matches!(e, UserError::BadCredentials) {
                    lock(&throttle).failure(&id, addr, unix_now());
                }
                refused(&templates, c.fmt, "login", e, &c.username).into()
            }
        }
    }))
}

/// The throttle, even if a thread panicked holding it (its records stay consistent:
/// every change is a few plain assignments).
fn lock(t: &Mutex<Throttle>) -> std::sync::MutexGuard<'_, Throttle> {
    t.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn logout(app: &App, req: &Request<'_>) -> Reply {
    let mut session = Session::load(&app.sessions, req, unix_now());
    session.flush();
    crate::app::forms::save_then(app, req, &mut session, redirect("/"))
}

/// `GET /user/`: who is logged in ([`users::logged_in`]): `{"username": "Ada"}` (the
/// name as registered), or `null`.
pub(crate) fn whoami(app: &App, req: &Request<'_>) -> Response {
    let session = Session::load(&app.sessions, req, unix_now());
    let user = users::logged_in(&app.store, &app.secret, &session);
    let user = user.as_ref().map(|u| u.username.as_str());
    match format(req.header("accept")) {
        Format::Json => {
            let v = match user {
                Some(u) => json!({"username": u}),
                None => serde_json::Value::Null,
            };
            let mut body = serde_json::to_vec(&v).unwrap_or_default();
            body.push(b'\n');
            Response::new(200, "application/json", crate::app::Body::Bytes(body))
        }
        Format::Html => html(&app.templates, 200, "user.html", &json!({"username": user})),
    }
    .header("Vary", "Accept, Cookie")
}
