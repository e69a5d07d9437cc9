//! What every HTML page carries besides its own content: who is logged in (in the
//! header) and the "On the wire" panel at its end (SPEC "Seeing the exchange").
//!
//! Theory of operation. `base.html` leaves two marks, [`WHO_MARK`] in the header and
//! [`WIRE_MARK`] before `</body>`. Every answer of a page passes through
//! [`App::answer`]: an HTML response (also one worked out later on a pool thread, or
//! after a durable write) has the marks replaced by the rendered `who.html` and
//! `wire_panel.html`. So no page has to remember the panel, and a response that is not
//! HTML (`/plaintext`, JSON, files) costs one look at its content type.
//!
//! What the panel shows is taken when the request is handled: this request's head as
//! received, and the client's previous exchange from the wire log (which does not
//! hold this one yet). Values that are secrets are cut as everywhere
//! ([`crate::app::wire::shown_head`]). Both depend on the request's cookies and on
//! what came before, so a dressed page says `Vary: Cookie` and `Cache-Control:
//! no-store`.

use crate::app::exchange::{Body, BodySink, Done, Reply, Request, Response};
use crate::app::pages::wire::{crlf_shown, exchange_view};
use crate::app::session::Session;
use crate::app::templates::Templates;
use crate::app::{App, unix_now, users};
use crate::http::accept::{Format, format};
use serde_json::{Value, json};
use std::sync::Arc;

/// Where the header says who is logged in.
pub(crate) const WHO_MARK: &str = "<!--wirepost:who-->";
/// Where the "On the wire" panel goes.
pub(crate) const WIRE_MARK: &str = "<!--wirepost:wire-->";

/// The page furniture of one request, taken while the request is at hand.
#[derive(Debug)]
pub(crate) struct Chrome {
    who: Value,
    wire: Value,
}

impl App {
    /// The answer to a request: its route's handler (or the sink that took its body),
    /// with an HTML page dressed in its [`Chrome`].
    pub(crate) fn answer(&self, req: &Request<'_>, sink: Option<Box<dyn BodySink>>) -> Reply {
        let reply = match sink {
            Some(sink) => sink.finish(req),
            None => self.handle(req),
        };
        // Most answers are not pages: given back as they are, not taken apart.
        if matches!(&reply, Reply::Now(resp) if !is_page(resp)) {
            return reply;
        }
        match reply {
            Reply::Now(resp) => Reply::Now(Chrome::of(self, req).dress(&self.templates, resp)),
            // Not known yet whether the answer is a page: a client that asks for HTML
            // gets its chrome taken now, applied if it is.
            Reply::Later(job) if wants_html(req) => {
                let chrome = Chrome::of(self, req);
                let templates = Arc::clone(&self.templates);
                Reply::Later(Box::new(move || chrome.dress(&templates, job())))
            }
            Reply::Pending(pending) if wants_html(req) => {
                let chrome = Chrome::of(self, req);
                let templates = Arc::clone(&self.templates);
                Reply::Pending(Box::new(move |done: Done| {
                    pending(Box::new(move |resp| done(chrome.dress(&templates, resp))))
                }))
            }
            other => other,
        }
    }
}

impl Chrome {
    /// Who is logged in and what the panel shows, for `req`.
    pub(crate) fn of(app: &App, req: &Request<'_>) -> Chrome {
        let session = Session::load(&app.sessions, req, unix_now());
        let user = users::logged_in(&app.store, &app.secret, &session).map(|u| u.username);
        let previous = app
            .wire
            .previous_page(req.peer.map(|p| p.ip()))
            .map(|e| exchange_view(&e));
        let head = crate::app::wire::shown_head(req.head.buf);
        Chrome {
            who: json!({ "user": user }),
            wire: json!({
                "request_shown": crlf_shown(&head),
                "previous": previous,
                "recording": app.wire.enabled(),
            }),
        }
    }

    /// `resp` with the marks of an HTML page replaced; any other response as it is.
    pub(crate) fn dress(&self, templates: &Templates, mut resp: Response) -> Response {
        if !is_page(&resp) {
            return resp;
        }
        let Body::Bytes(page) = &mut resp.body else {
            return resp;
        };
        let mut dressed = false;
        // The header's mark comes first in the page, the panel's last: a mark that a
        // page's own content held (escaped, it cannot) would not be taken.
        if let Some(at) = find(page, WHO_MARK.as_bytes(), false) {
            let who = render(templates, "who.html", &self.who);
            page.splice(at..at + WHO_MARK.len(), who.into_bytes());
            dressed = true;
        }
        if let Some(at) = find(page, WIRE_MARK.as_bytes(), true) {
            let panel = render(templates, "wire_panel.html", &self.wire);
            page.splice(at..at + WIRE_MARK.len(), panel.into_bytes());
            dressed = true;
        }
        if dressed {
            vary_cookie(&mut resp);
            resp.head.header("Cache-Control", "no-store");
        }
        resp
    }
}

/// An HTML response whose body is in memory (a rendered page).
fn is_page(resp: &Response) -> bool {
    matches!(resp.body, Body::Bytes(_))
        && resp
            .head
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html"))
}

fn wants_html(req: &Request<'_>) -> bool {
    format(req.header("accept")) == Format::Html
}

fn find(hay: &[u8], needle: &[u8], last: bool) -> Option<usize> {
    if last {
        memchr::memmem::rfind(hay, needle)
    } else {
        memchr::memmem::find(hay, needle)
    }
}

/// A partial template; a failure is logged and leaves the mark's place empty.
fn render(templates: &Templates, name: &str, context: &Value) -> String {
    templates.render(name, context).unwrap_or_else(|e| {
        log::error!("template error: {e}");
        String::new()
    })
}

/// Add `Cookie` to the response's `Vary` (the header line depends on the session).
fn vary_cookie(resp: &mut Response) {
    let fields = &mut resp.head.headers;
    match fields
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("vary"))
    {
        Some((_, v))
            if v.split(',')
                .any(|x| x.trim().eq_ignore_ascii_case("cookie")) => {}
        Some((_, v)) => *v = format!("{v}, Cookie").into(),
        None => fields.push(("Vary", "Cookie".into())),
    }
}
