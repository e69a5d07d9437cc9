//! What the form pages share: reading an urlencoded body, the 302 of
//! post/redirect/get, answering once a session write is durable, and storage errors.

use crate::app::session::Session;
use crate::app::{App, Body, Reply, Request, Response, unix_now};
use crate::http::query::{MAX_FIELDS, MultiMap, parse_urlencoded_limited};
use crate::store::db::StoreError;

/// The fields of an `application/x-www-form-urlencoded` body (an empty body is an
/// empty form). Another content type gets 415; more than 1000 fields 400.
pub fn form_fields(req: &Request<'_>) -> Result<MultiMap, Response> {
    if let Some(ct) = req.header("content-type") {
        let essence = ct.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii();
        if !essence.eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
            && !req.body.is_empty()
        {
            return Err(Response::text_error(
                415,
                "this form takes application/x-www-form-urlencoded",
            ));
        }
    }
    parse_urlencoded_limited(req.body, MAX_FIELDS)
        .map_err(|e| Response::text_error(400, &e.to_string()))
}

/// `302 Found` to `location`, with a line of text for people reading with `nc`.
pub fn redirect(location: &str) -> Response {
    let body = format!("302 Found: see {location}\n").into_bytes();
    Response::new(302, "text/plain; charset=utf-8", Body::Bytes(body))
        .header("Location", location.to_string())
}

/// The answer when storage failed: 507 when the disk is full, else 503.
pub fn store_error(e: StoreError) -> Response {
    log::error!("storage: {e:?}");
    let (status, msg) = match &e {
        StoreError::Io(io) if io.raw_os_error() == Some(28) => {
            (507, "the server's disk is full; nothing was saved")
        }
        _ => (503, "the server could not save this; nothing was changed"),
    };
    Response::text_error(status, msg)
}

/// Save `session` and answer `resp` (with the session's `Set-Cookie`) once the write
/// is durable — without holding any thread while the fsync happens.
pub fn save_then(app: &App, session: &mut Session, resp: Response) -> Reply {
    let saved = match session.save(&app.store, unix_now()) {
        Ok(s) => s,
        Err(e) => return store_error(e).into(),
    };
    let resp = match saved.set_cookie {
        Some(c) => resp.header("Set-Cookie", c),
        None => resp,
    };
    match saved.ticket {
        None => resp.into(),
        Some(ticket) => {
            let store = app.store.clone();
            Reply::Pending(Box::new(move |done| {
                store.on_durable(
                    ticket,
                    Box::new(move |r| {
                        done(match r {
                            Ok(()) => resp,
                            Err(e) => store_error(e),
                        })
                    }),
                )
            }))
        }
    }
}
