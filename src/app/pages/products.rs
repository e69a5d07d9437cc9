//! `/products/` and `/products/<id>/`: the catalogue, and one product with its
//! "add to cart" form. Viewing a product records it in the `history` cookie
//! (see [`history`](super::history)).

use crate::app::App;
use crate::app::catalogue::parse_id;
use crate::app::exchange::{Request, Response};
use crate::app::pages::history;
use crate::app::view::{Vary, error_page, respond, respond_extra};
use serde_json::{Map, Value};

/// `GET /products/`: every product. JSON `{"products": [{"id", "name", "price_cents",
/// "price", "description", "image", "url"}, …]}`.
pub(crate) fn list(app: &App, req: &Request<'_>) -> Response {
    let mut data = Map::new();
    data.insert(
        "products".into(),
        Value::Array(app.catalogue.all_json().to_vec()),
    );
    respond(
        app,
        req,
        200,
        "products.html",
        &Value::Object(data),
        Vary::Accept,
    )
}

/// `GET /products/<id>/` (`id` is the path segment): the product, and a `Set-Cookie`
/// with the history that now starts with it. 404 for an id that is not a canonical
/// number of a product in the catalogue.
pub(crate) fn show(app: &App, req: &Request<'_>, id: &str) -> Response {
    let Some((id, product)) = parse_id(id).and_then(|id| Some((id, app.catalogue.json(id)?)))
    else {
        return error_page(
            app,
            req,
            404,
            &format!("there is no product {id:?} in the catalogue"),
            Some(("/products/", "all products")),
        );
    };
    let ids = history::record(&history::from_request(req, &app.catalogue), id);
    // (Built by hand: `json!` would copy the product's JSON once more.)
    let mut data = Map::new();
    data.insert("product".into(), product.clone());
    data.insert("max_qty".into(), Value::from(crate::app::cart::MAX_QTY));
    // The Set-Cookie depends on the Cookie sent: `Vary: Cookie`. The page shows the
    // very value it sends.
    let set_cookie = history::set_cookie(&ids);
    respond_extra(
        app,
        req,
        200,
        "product.html",
        &Value::Object(data),
        serde_json::json!({ "set_cookie": set_cookie }),
        Vary::AcceptCookie,
    )
    .header("Set-Cookie", set_cookie)
}
