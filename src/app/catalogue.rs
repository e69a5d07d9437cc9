//! The product catalogue: a dozen products shipped as data (`www/catalogue.json`),
//! loaded and checked once at start.
//!
//! Prices are whole **cents** (`price_cents`, an integer: no floating-point money);
//! every JSON answer also carries the same price as a decimal string (`price`,
//! `"12.50"`) for display, computed here so templates and JSON clients agree.
//!
//! The file is checked when the server starts, so a broken catalogue stops it with a
//! message instead of breaking pages: ids are unique and at least 1, names are not
//! empty, and every image is a file under `www/static/` (a page never links a 404).

use crate::app::html::push_u64;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::path::Path;

/// One product, as in `www/catalogue.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Product {
    pub id: u64,
    pub name: String,
    pub price_cents: u64,
    pub description: String,
    /// URL of the picture, under `/static/`.
    pub image: String,
}

impl Product {
    /// The product page.
    pub(crate) fn url(&self) -> String {
        format!("/products/{}/", self.id)
    }

    /// What every page says of a product (HTML and JSON alike).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "price_cents": self.price_cents,
            "price": format_price(self.price_cents),
            "description": self.description,
            "image": self.image,
            "url": self.url(),
        })
    }
}

/// Cents as a decimal string: `1250` → `"12.50"`.
pub(crate) fn format_price(cents: u64) -> String {
    let mut s = String::with_capacity(24);
    push_u64(&mut s, cents / 100);
    let c = (cents % 100) as u8;
    s.push('.');
    s.push(char::from(b'0' + c / 10));
    s.push(char::from(b'0' + c % 10));
    s
}

/// Every product, in id order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    products: Vec<Product>,
    /// `products[i].to_json()`, built once: pages copy it instead of rebuilding it.
    json: Vec<Value>,
    /// The same followed by [`LINE_KEYS`] (see [`Catalogue::cart_line`]).
    lines: Vec<Value>,
}

/// What a cart line adds to its product's JSON, in this order (see
/// [`Catalogue::cart_line`]).
pub(crate) const LINE_KEYS: [&str; 4] = ["qty", "line_total_cents", "line_total", "can_add"];

impl Catalogue {
    /// Read `file` and check it; images must exist under `static_dir` (the directory
    /// served as `/static/`).
    pub(crate) fn load(file: &Path, static_dir: &Path) -> Result<Catalogue, String> {
        let fail = |why: String| format!("{}: {why}", file.display());
        let text = std::fs::read_to_string(file).map_err(|e| fail(format!("cannot read: {e}")))?;
        let products: Vec<Product> =
            serde_json::from_str(&text).map_err(|e| fail(format!("not a product list: {e}")))?;
        let c = Catalogue::new(products).map_err(fail)?;
        for p in &c.products {
            let exists = p
                .image
                .strip_prefix("/static/")
                .filter(|rest| !rest.split('/').any(|s| s.is_empty() || s == ".."))
                .is_some_and(|rest| static_dir.join(rest).is_file());
            if !exists {
                return Err(fail(format!(
                    "product {}: image {:?} is not a file under {}",
                    p.id,
                    p.image,
                    static_dir.display()
                )));
            }
        }
        Ok(c)
    }

    /// A catalogue from products (sorted by id); refuses duplicate or zero ids and
    /// empty names.
    pub(crate) fn new(mut products: Vec<Product>) -> Result<Catalogue, String> {
        products.sort_by_key(|p| p.id);
        for (i, p) in products.iter().enumerate() {
            if p.id == 0 {
                return Err("product ids start at 1".into());
            }
            if i > 0 && products[i - 1].id == p.id {
                return Err(format!("product id {} appears twice", p.id));
            }
            if p.name.trim().is_empty() {
                return Err(format!("product {} has no name", p.id));
            }
        }
        let json: Vec<Value> = products.iter().map(Product::to_json).collect();
        let lines = json
            .iter()
            .map(|j| {
                let fields = j.as_object().expect("a product is an object");
                let mut m = Map::with_capacity(fields.len() + LINE_KEYS.len());
                m.extend(fields.clone());
                m.extend(LINE_KEYS.map(|k| (k.to_string(), Value::Null)));
                Value::Object(m)
            })
            .collect();
        Ok(Catalogue {
            products,
            json,
            lines,
        })
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Product> {
        self.products
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.products[i])
    }

    /// The product's [`Product::to_json`], built at load.
    pub(crate) fn json(&self, id: u64) -> Option<&Value> {
        self.products
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.json[i])
    }

    /// A cart line to fill in: [`Catalogue::json`] followed by the [`LINE_KEYS`], all
    /// `null`. The cart copies it and sets those four in place, which hashes and
    /// allocates no key (a `Map::insert` does both) and never grows the copy.
    pub(crate) fn cart_line(&self, id: u64) -> Option<&Value> {
        self.products
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.lines[i])
    }

    /// Every product's [`Product::to_json`], in id order.
    pub(crate) fn all_json(&self) -> &[Value] {
        &self.json
    }

    #[cfg(test)]
    pub(crate) fn all(&self) -> &[Product] {
        &self.products
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.products.len()
    }
}

/// A product id as written in a URL, a form or a cookie: canonical decimal digits
/// only (`3`, not `03`, `+3`, ` 3` or `3.0`), so one product has one spelling.
pub(crate) fn parse_id(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: u64, name: &str) -> Product {
        Product {
            id,
            name: name.into(),
            price_cents: 1250,
            description: String::new(),
            image: "/static/x.svg".into(),
        }
    }

    #[test]
    fn prices_and_ids() {
        assert_eq!(format_price(1250), "12.50");
        assert_eq!(format_price(5), "0.05");
        assert_eq!(format_price(0), "0.00");
        assert_eq!(format_price(123_400), "1234.00");
        for cents in (0..2000).chain([u64::MAX - 1, u64::MAX]) {
            assert_eq!(
                format_price(cents),
                format!("{}.{:02}", cents / 100, cents % 100)
            );
        }
        assert_eq!(parse_id("3"), Some(3));
        assert_eq!(parse_id("12"), Some(12));
        for bad in [
            "",
            "0",
            "03",
            "+3",
            "-3",
            " 3",
            "3 ",
            "3.0",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn checks_and_lookups() {
        let c = Catalogue::new(vec![product(2, "b"), product(1, "a")]).unwrap();
        assert_eq!(c.all()[0].id, 1);
        assert_eq!(c.get(2).unwrap().name, "b");
        assert!(c.get(3).is_none());
        assert_eq!(c.json(2), Some(&c.get(2).unwrap().to_json()));
        assert!(c.json(3).is_none());
        let line = c.cart_line(2).unwrap().as_object().unwrap();
        let keys: Vec<&str> = line.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "name",
                "price_cents",
                "price",
                "description",
                "image",
                "url",
                "qty",
                "line_total_cents",
                "line_total",
                "can_add"
            ]
        );
        assert!(line.values().skip(7).all(Value::is_null));
        assert!(c.cart_line(3).is_none());
        assert_eq!(c.all_json().len(), 2);
        assert_eq!(c.all_json()[0], c.all()[0].to_json());
        assert_eq!(c.get(1).unwrap().to_json()["price"], "12.50");
        assert_eq!(c.get(1).unwrap().to_json()["url"], "/products/1/");
        assert!(Catalogue::new(vec![product(1, "a"), product(1, "b")]).is_err());
        assert!(Catalogue::new(vec![product(0, "a")]).is_err());
        assert!(Catalogue::new(vec![product(1, " ")]).is_err());
    }

    #[test]
    fn the_shipped_catalogue_loads() {
        let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
        let c = Catalogue::load(&www.join("catalogue.json"), &www.join("static")).unwrap();
        assert_eq!(c.len(), 12);
        let ids: Vec<u64> = c.all().iter().map(|p| p.id).collect();
        assert_eq!(ids, (1..=12).collect::<Vec<_>>());
    }
}
