//! The cart, kept in the session under `cart` as `{"<product id>": quantity, …}` in
//! the order products were first added. The `/cart/…` pages arrive with the pages
//! issue; these are the storage rules they use.

use crate::app::session::Session;
use serde_json::{Map, Value};

/// The session key of the cart.
pub(crate) const KEY: &str = "cart";
/// Quantities a form may ask for in one go, and the most of one product in a cart.
pub(crate) const MIN_QTY: u64 = 1;
pub(crate) const MAX_QTY: u64 = 99;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CartError {
    /// Quantity outside 1–99 (SPEC: 400).
    Quantity,
}

fn cart(session: &Session) -> Map<String, Value> {
    session
        .get(KEY)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A stored quantity if it is one the cart may hold: a whole number from 1 to 99.
/// The session can hold anything (the inspector `/session/` writes any JSON), so
/// nothing else is trusted: 0, 100, 7700000000000000, 2.5, -1, "9" are invalid.
fn valid_qty(v: &Value) -> Option<u64> {
    v.as_u64().filter(|q| (MIN_QTY..=MAX_QTY).contains(q))
}

/// `(product id, quantity)` in the order first added; garbage entries, and entries
/// with an invalid quantity ([`valid_qty`]), are skipped as if absent.
pub(crate) fn items(session: &Session) -> Vec<(u64, u64)> {
    let Some(cart) = session.get(KEY).and_then(Value::as_object) else {
        return Vec::new();
    };
    cart.iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, valid_qty(v)?)))
        .collect()
}

/// Add `qty` of `product` (1–99); the total of one product stops at 99.
pub(crate) fn add(session: &mut Session, product: u64, qty: u64) -> Result<(), CartError> {
    if !(MIN_QTY..=MAX_QTY).contains(&qty) {
        return Err(CartError::Quantity);
    }
    let mut c = cart(session);
    let key = product.to_string();
    // An invalid stored quantity counts as none (it was not in the cart).
    let now = c.get(&key).and_then(valid_qty).unwrap_or(0);
    c.insert(key, Value::from((now + qty).min(MAX_QTY)));
    session.set(KEY, Value::Object(c));
    Ok(())
}

/// Take `qty` of `product` out (1–99); at zero it leaves the cart.
pub(crate) fn remove(session: &mut Session, product: u64, qty: u64) -> Result<(), CartError> {
    if !(MIN_QTY..=MAX_QTY).contains(&qty) {
        return Err(CartError::Quantity);
    }
    let mut c = cart(session);
    let key = product.to_string();
    let now = c.get(&key).and_then(valid_qty).unwrap_or(0);
    if now <= qty {
        c.remove(&key);
    } else {
        c.insert(key, Value::from(now - qty));
    }
    session.set(KEY, Value::Object(c));
    Ok(())
}

/// Empty the cart.
pub(crate) fn clear(session: &mut Session) {
    session.remove(KEY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_clear_with_bounds() {
        let mut s = Session::empty();
        assert_eq!(add(&mut s, 3, 0), Err(CartError::Quantity));
        assert_eq!(add(&mut s, 3, 100), Err(CartError::Quantity));
        add(&mut s, 3, 2).unwrap();
        add(&mut s, 1, 1).unwrap();
        add(&mut s, 3, 99).unwrap();
        assert_eq!(items(&s), vec![(3, 99), (1, 1)]);
        remove(&mut s, 3, 98).unwrap();
        assert_eq!(items(&s), vec![(3, 1), (1, 1)]);
        remove(&mut s, 3, 5).unwrap();
        assert_eq!(items(&s), vec![(1, 1)]);
        assert!(s.is_modified());
        clear(&mut s);
        assert!(items(&s).is_empty());
    }

    #[test]
    fn garbage_in_the_session_is_ignored() {
        let mut s = Session::empty();
        s.set(
            KEY,
            serde_json::json!({"x": 1, "2": "many", "5": 3, "6": 0, "7": 100,
                "8": 7_700_000_000_000_000u64, "9": u64::MAX, "10": 2.5, "11": -1}),
        );
        assert_eq!(items(&s), vec![(5, 3)]);
        add(&mut s, 9, 1).unwrap();
        assert_eq!(items(&s), vec![(5, 3), (9, 1)]);
        s.set(KEY, serde_json::json!("not an object"));
        assert!(items(&s).is_empty());
    }
}
