//! `/cart/`, `/cart/add/`, `/cart/remove/`, `/cart/clear/`: a cart held in the
//! session (SPEC "Sessions"), the way a Django shop keeps one: the browser holds only
//! the `sessionid` cookie, the server holds the cart (see [`crate::app::cart`] for
//! the storage rules).
//!
//! - Anonymous visitors get a cart too: the first add creates the session (and sends
//!   its cookie); merely looking at an empty cart creates nothing.
//! - The forms post `product` (an id) and `qty` (1–99, 1 when missing or empty). A
//!   `qty` outside 1–99 or not a number, a missing or non-numeric `product`, and a
//!   `product` that is not in the catalogue are all **400 Bad Request**: the page
//!   `/cart/add/` exists, the form sent to it is what is wrong. (A 404 would say the
//!   URL names nothing.)
//! - Every change answers `302 Found` to `/cart/` only once the session is durable
//!   (`forms::save_then`), so a cart that was confirmed survives `kill -9`.
//! - Quantities in the session are trusted no more than a form: one outside 1–99 or
//!   not a whole number is dropped as if absent ([`crate::app::cart::items`]), and
//!   totals use checked arithmetic. Adding to a product already at 99 leaves it at 99
//!   (302, as any add; the page shows no add button then).
//! - `GET /cart/` as JSON: `{"items": [{"id": 1, "name": "…", "qty": 2, …}],
//!   "count": 2, …}` where `count` is the number of **pieces** (the sum of the
//!   quantities, as a shop's cart badge shows), plus prices in cents and as text.

use crate::app::App;
use crate::app::cart as store;
use crate::app::catalogue::{LINE_KEYS, format_price, parse_id};
use crate::app::exchange::unix_now;
use crate::app::exchange::{Reply, Request, Response};
use crate::app::forms::{form_fields, redirect, save_then};
use crate::app::session::Session;
use crate::app::view::{Vary, error_page, respond};
use crate::http::query::MultiMap;
use serde_json::{Map, Value};

/// `GET /cart/`.
pub(crate) fn view(app: &App, req: &Request<'_>) -> Response {
    let session = Session::load(&app.sessions, req, unix_now());
    let mut items = Vec::new();
    let (mut count, mut total) = (0u64, 0u64);
    // Products no longer in the catalogue are skipped.
    for (id, qty) in store::items(&session) {
        let (Some(p), Some(Value::Object(line_json))) =
            (app.catalogue.get(id), app.catalogue.cart_line(id))
        else {
            continue;
        };
        // `qty` is 1–99 (`store::items`), but the catalogue's prices are only u64:
        // checked, so no total ever wraps. A line past u64 is refused, not shown.
        let Some(line) = p.price_cents.checked_mul(qty) else {
            return error_page(app, req, 500, "cart total out of range", None);
        };
        let (Some(c), Some(t)) = (count.checked_add(qty), total.checked_add(line)) else {
            return error_page(app, req, 500, "cart total out of range", None);
        };
        (count, total) = (c, t);
        // The product's JSON then `qty`, `line_total_cents`, `line_total`, `can_add`
        // (`catalogue::LINE_KEYS`), set in place.
        let mut item = line_json.clone();
        for (k, v) in item.iter_mut().rev().take(LINE_KEYS.len()) {
            *v = match k.as_str() {
                "qty" => Value::from(qty),
                "line_total_cents" => Value::from(line),
                "line_total" => Value::from(format_price(line)),
                "can_add" => Value::from(qty < store::MAX_QTY),
                _ => continue, // (none: the catalogue's test pins the keys)
            };
        }
        items.push(Value::Object(item));
    }
    // (Built by hand: `json!` would copy `items` once more.)
    let mut data = Map::with_capacity(5);
    data.insert("items".into(), Value::Array(items));
    data.insert("count".into(), Value::from(count));
    data.insert("total_cents".into(), Value::from(total));
    data.insert("total".into(), Value::from(format_price(total)));
    data.insert("max_qty".into(), Value::from(store::MAX_QTY));
    respond(
        app,
        req,
        200,
        "cart.html",
        &Value::Object(data),
        Vary::AcceptCookie,
    )
}

fn bad(app: &App, req: &Request<'_>, message: &str) -> Reply {
    error_page(app, req, 400, message, Some(("/cart/", "your cart"))).into()
}

/// The `product` and `qty` of a cart form, checked.
fn product_and_qty(app: &App, fields: &MultiMap) -> Result<(u64, u64), String> {
    let product = match fields.get("product").map(str::trim) {
        None | Some("") => return Err("the form has no product".into()),
        Some(p) => p,
    };
    let Some(id) = parse_id(product) else {
        return Err(format!("product must be a product id, not {product:?}"));
    };
    if app.catalogue.get(id).is_none() {
        return Err(format!("there is no product {id} in the catalogue"));
    }
    let qty = match fields.get("qty").map(str::trim) {
        None | Some("") => 1,
        Some(q) => q
            .parse::<u64>()
            .ok()
            .filter(|n| (store::MIN_QTY..=store::MAX_QTY).contains(n))
            .ok_or_else(|| format!("qty must be a whole number from 1 to 99, not {q:?}"))?,
    };
    Ok((id, qty))
}

/// `POST /cart/add/` and `POST /cart/remove/`.
pub(crate) fn change(app: &App, req: &Request<'_>, add: bool) -> Reply {
    let fields = match form_fields(app, req) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let (id, qty) = match product_and_qty(app, &fields) {
        Ok(x) => x,
        Err(why) => return bad(app, req, &why),
    };
    let mut session = Session::load(&app.sessions, req, unix_now());
    let result = if add {
        store::add(&mut session, id, qty)
    } else if store::items(&session).iter().any(|&(p, _)| p == id) {
        store::remove(&mut session, id, qty)
    } else {
        Ok(()) // not in the cart: nothing to do, and no session to create
    };
    if result.is_err() {
        return bad(app, req, "qty must be a whole number from 1 to 99");
    }
    save_then(app, req, &mut session, redirect("/cart/"))
}

/// `POST /cart/clear/`.
pub(crate) fn clear(app: &App, req: &Request<'_>) -> Reply {
    let mut session = Session::load(&app.sessions, req, unix_now());
    store::clear(&mut session);
    save_then(app, req, &mut session, redirect("/cart/"))
}
