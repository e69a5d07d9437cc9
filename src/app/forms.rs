//! What the form pages share: reading an urlencoded body, the 302 of
//! post/redirect/get, answering once a session write is durable, and storage errors.

use crate::app::App;
use crate::app::exchange::unix_now;
use crate::app::exchange::{Body, Reply, Request, Response};
use crate::app::session::{SaveError, Session};
use crate::app::templates::Templates;
use crate::app::view::problem_response;
use crate::http::Problem;
use crate::http::accept::{ErrorFormat, error_format};
use crate::http::query::{MAX_FIELDS, MultiMap, parse_urlencoded_limited};
use crate::store::db::StoreError;

/// The fields of an `application/x-www-form-urlencoded` body (an empty body is an
/// empty form). Another content type gets 415; more than 1000 fields 400.
pub(crate) fn form_fields(app: &App, req: &Request<'_>) -> Result<MultiMap, Response> {
    if let Some(ct) = req.header("content-type") {
        let essence = ct.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii();
        if !essence.eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
            && !req.body.is_empty()
        {
            return Err(app.problem_for(
                req,
                Problem::new(415, "this form takes application/x-www-form-urlencoded"),
            ));
        }
    }
    parse_urlencoded_limited(req.body, MAX_FIELDS)
        .map_err(|e| app.problem_for(req, Problem::new(400, e.to_string())))
}

/// `302 Found` to `location`, with a line of text for people reading with `nc`.
pub(crate) fn redirect(location: &str) -> Response {
    let body = format!("302 Found: see {location}\n").into_bytes();
    Response::new(302, "text/plain; charset=utf-8", Body::Bytes(body))
        .header("Location", location.to_string())
}

/// The answer when storage failed: 507 when the disk is full; 503 (with
/// `Retry-After: 1`) while the store pauses writes after a failure (it tries again a
/// second later) and for other I/O errors. Each says that nothing was saved, and each
/// logs one line saying why. As plain text; [`store_error_as`] in the client's format.
#[cfg(test)]
pub(crate) fn store_error(e: StoreError) -> Response {
    let p = store_problem(e);
    let r = Response::new(
        p.status,
        "text/plain; charset=utf-8",
        Body::Bytes(p.to_text().into_bytes()),
    );
    retry_after(r)
}

/// [`store_error`] rendered as `fmt` (decided from the request's `Accept` before the
/// write: the answer is sent from the storage thread).
pub(crate) fn store_error_as(templates: &Templates, fmt: ErrorFormat, e: StoreError) -> Response {
    retry_after(problem_response(templates, &store_problem(e), fmt, None))
}

/// 503 says when to try again.
fn retry_after(r: Response) -> Response {
    if r.head.status == 503 {
        r.header("Retry-After", "1")
    } else {
        r
    }
}

/// What a storage failure answers ([`store_error`]); logs it.
pub(crate) fn store_problem(e: StoreError) -> Problem {
    let (status, msg) = match &e {
        StoreError::Io(io) if is_disk_full(io) => {
            (507, "the server's disk is full; nothing was saved")
        }
        StoreError::Failed => (
            503,
            "the server's storage failed a moment ago (disk full?) and pauses writes; \
             nothing was saved; try again in a second",
        ),
        StoreError::TooDeep { .. } => (
            413,
            "the value nests too deep to be stored; nothing was saved",
        ),
        _ => (503, "the server could not save this; nothing was changed"),
    };
    log::error!("storage: answering {status}, nothing saved: {e}");
    Problem::new(status, msg)
}

/// The answer when a session could not be saved: 413 with the reason when it is past
/// its bounds, else as [`store_error`]; in the client's format.
pub(crate) fn save_error(templates: &Templates, fmt: ErrorFormat, e: SaveError) -> Response {
    match e {
        SaveError::TooLarge(why) => problem_response(templates, &Problem::new(413, why), fmt, None),
        SaveError::Store(e) => store_error_as(templates, fmt, e),
    }
}

/// `ENOSPC`: no space left on the device.
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == std::io::ErrorKind::StorageFull
}

/// Save `session` and answer `resp` (with the session's `Set-Cookie`) once the write
/// is durable — without holding any thread while the fsync happens.
pub(crate) fn save_then(
    app: &App,
    req: &Request<'_>,
    session: &mut Session,
    resp: Response,
) -> Reply {
    let fmt = error_format(req.header("accept"));
    let saved = match session.save(&app.sessions, unix_now()) {
        Ok(s) => s,
        Err(e) => return save_error(&app.templates, fmt, e).into(),
    };
    let resp = match saved.set_cookie {
        Some(c) => resp.header("Set-Cookie", c),
        None => resp,
    };
    match saved.ticket {
        None => resp.into(),
        Some(ticket) => {
            let store = app.store.clone();
            let templates = app.templates.clone();
            Reply::Pending(Box::new(move |done| {
                store.on_durable(
                    ticket,
                    Box::new(move |r| {
                        done(match r {
                            Ok(()) => resp,
                            Err(e) => store_error_as(&templates, fmt, e),
                        })
                    }),
                )
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn body(r: &Response) -> String {
        match &r.body {
            Body::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        }
    }

    fn retry_after(r: &Response) -> Option<&str> {
        r.head
            .headers
            .iter()
            .find(|(n, _)| *n == "Retry-After")
            .map(|(_, v)| v.as_ref())
    }

    #[test]
    fn storage_errors_say_nothing_was_saved() {
        let full = store_error(StoreError::Io(io::Error::from_raw_os_error(libc::ENOSPC)));
        assert_eq!(full.head.status, 507);
        assert!(body(&full).contains("disk is full; nothing was saved"));
        assert_eq!(retry_after(&full), None);

        let paused = store_error(StoreError::Failed);
        assert_eq!(paused.head.status, 503);
        assert!(
            body(&paused).contains("nothing was saved"),
            "{}",
            body(&paused)
        );
        assert_eq!(retry_after(&paused), Some("1"));

        let eio = store_error(StoreError::Io(io::Error::from_raw_os_error(libc::EIO)));
        assert_eq!(eio.head.status, 503);
        assert!(body(&eio).contains("nothing was changed"));
        assert_eq!(retry_after(&eio), Some("1"));
    }
}
