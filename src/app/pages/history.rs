//! The `history` cookie (SPEC "History cookie"): the products this browser viewed,
//! newest first, kept by the browser rather than the server. `/history/` shows them;
//! `POST /history/clear/` deletes the cookie.
//!
//! On the wire: `history=3.1.2; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax`.
//!
//! - The value is product ids joined by `.`: digits and dots are cookie-octets
//!   (RFC 6265 §4.1.1), so nothing needs quoting or encoding.
//! - Newest first, no duplicates, at most [`MAX`] ids: viewing a product moves it to
//!   the front (`1, 2, 3, 1` → `1.3.2`).
//! - `Path=/` (every page may read it), `Max-Age` 30 days, renewed by every view.
//!   `HttpOnly` because no script needs it, `SameSite=Lax` because no other site does.
//! - The browser sends back whatever it holds, and anybody can edit a cookie: the
//!   value is read as untrusted input. Pieces that are not canonical ids of products
//!   in the catalogue are dropped (`%%%`, `1.1.1`, `999`, a thousand ids, non-ASCII),
//!   duplicates too, and only the first [`MAX`] count. A garbage cookie is never an
//!   error: it reads as a shorter (or empty) history, and the next product view
//!   writes a clean one.

use crate::app::App;
use crate::app::catalogue::{Catalogue, parse_id};
use crate::app::exchange::{Request, Response};
use crate::app::forms::redirect;
use crate::app::view::{Vary, first_cookie, respond};
use crate::http::cookie::SetCookie;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The cookie's name.
pub(crate) const COOKIE: &str = "history";
/// Most products remembered (SPEC).
pub(crate) const MAX: usize = 10;
/// Life of the cookie, seconds: 30 days (SPEC).
#[cfg(test)]
pub(crate) const MAX_AGE: i64 = 30 * 86_400;
/// Between two ids in the value: a cookie-octet that is not a digit.
pub(crate) const SEP: char = '.';

/// The ids in a `history` value: known products only, no duplicates, at most [`MAX`],
/// in the order given (newest first).
pub(crate) fn parse(value: &str, catalogue: &Catalogue) -> Vec<u64> {
    let mut ids = Vec::with_capacity(MAX);
    for piece in value.split(SEP) {
        if ids.len() == MAX {
            break;
        }
        if let Some(id) = parse_id(piece)
            && catalogue.get(id).is_some()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

/// The history after viewing `id`: it goes first, any older mention goes, at most
/// [`MAX`] in all.
pub(crate) fn record(ids: &[u64], id: u64) -> Vec<u64> {
    std::iter::once(id)
        .chain(ids.iter().copied().filter(|&x| x != id))
        .take(MAX)
        .collect()
}

/// The `Set-Cookie` value storing `ids`: what `SetCookie` would write (the test
/// checks it), built in one `String` since every product view sends it.
pub(crate) fn set_cookie(ids: &[u64]) -> String {
    const ATTRIBUTES: &str = "; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax";
    let mut out = String::with_capacity(COOKIE.len() + 1 + ids.len() * 3 + ATTRIBUTES.len());
    out.push_str(COOKIE);
    out.push('=');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(SEP);
        }
        let _ = write!(out, "{id}");
    }
    out.push_str(ATTRIBUTES);
    out
}

/// The `Set-Cookie` value deleting the cookie (`Max-Age=0`, same path).
pub(crate) fn removal() -> String {
    SetCookie::removal(COOKIE)
        .expect("history is a token")
        .to_string()
}

/// The request's history (see [`parse`]).
pub(crate) fn from_request(req: &Request<'_>, catalogue: &Catalogue) -> Vec<u64> {
    first_cookie(req, COOKIE).map_or_else(Vec::new, |v| parse(&v, catalogue))
}

/// `GET /history/`: the products, newest first; JSON `{"products": [{"id", "name"}…]}`
/// (each with the catalogue's other fields too) and the raw `cookie` value as sent.
pub(crate) fn view(app: &App, req: &Request<'_>) -> Response {
    let ids = from_request(req, &app.catalogue);
    let products: Vec<Value> = ids
        .iter()
        .filter_map(|&id| app.catalogue.json(id))
        .cloned()
        .collect();
    let data = json!({
        "products": products,
        "cookie": first_cookie(req, COOKIE),
        "max": MAX,
    });
    respond(app, req, 200, "history.html", &data, Vary::AcceptCookie)
}

/// `POST /history/clear/`: the cookie goes → 302 `/history/`.
pub(crate) fn clear() -> Response {
    redirect("/history/").header("Set-Cookie", removal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::catalogue::Product;
    use crate::http::cookie::SameSite;

    fn catalogue() -> Catalogue {
        Catalogue::new(
            (1..=12)
                .map(|id| Product {
                    id,
                    name: format!("p{id}"),
                    price_cents: 100,
                    description: String::new(),
                    image: String::new(),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn views_newest_first_without_duplicates() {
        let mut h = Vec::new();
        for id in [1, 2, 3, 1] {
            h = record(&h, id);
        }
        assert_eq!(h, [1, 3, 2]);
        assert_eq!(
            set_cookie(&h),
            "history=1.3.2; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax"
        );
        let mut h = Vec::new();
        for id in 1..=12 {
            h = record(&h, id);
        }
        assert_eq!(h, [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    }

    #[test]
    fn set_cookie_writes_what_set_cookie_would() {
        for ids in [
            &[][..],
            &[7],
            &[1, 3, 2],
            &[12, 11, 10, 9, 8, 7, 6, 5, 4, 3],
        ] {
            let value: Vec<String> = ids.iter().map(u64::to_string).collect();
            let want = SetCookie::new(COOKIE, &value.join(&SEP.to_string()))
                .unwrap()
                .max_age(MAX_AGE)
                .path("/")
                .unwrap()
                .http_only()
                .same_site(SameSite::Lax)
                .to_string();
            assert_eq!(set_cookie(ids), want, "{ids:?}");
        }
    }

    #[test]
    fn garbage_values_read_as_a_clean_history() {
        let c = catalogue();
        let cases: &[(&str, &[u64])] = &[
            ("3.1.2", &[3, 1, 2]),
            ("", &[]),
            ("%%%", &[]),
            ("1.1.1", &[1]),
            ("999", &[]),
            ("999.4", &[4]),
            ("03.+4.-5. 6.7 . 8", &[]),
            ("..1..2..", &[1, 2]),
            ("\"1.2\"", &[]),
            ("é1.2", &[2]),
            ("1,2", &[]),
            (
                "12.11.10.9.8.7.6.5.4.3.2.1",
                &[12, 11, 10, 9, 8, 7, 6, 5, 4, 3],
            ),
            ("99999999999999999999999.5", &[5]),
        ];
        for (value, want) in cases {
            assert_eq!(parse(value, &c), *want, "{value:?}");
        }
        let many: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
        assert_eq!(parse(&many.join("."), &c), (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn removal_expires_at_once() {
        assert_eq!(
            removal(),
            "history=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"
        );
    }
}
