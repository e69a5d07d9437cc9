//! SPEC "Security and bounds": the cart holds quantities 1–99 whatever the session
//! says. The session inspector `/session/` can write anything under `cart`; the cart
//! page drops what is out of range instead of multiplying it, and adding stops at 99.

mod support;

use serde_json::{Value, json};
use support::{Server, form_post};

fn cart(server: &Server, sid: &str) -> Value {
    let resp = server.request(
        format!(
            "GET /cart/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\
             Cookie: sessionid={sid}\r\n\r\n"
        )
        .as_bytes(),
    );
    resp.assert_status(200);
    resp.json()
}

/// A session whose `cart` is `value`, written through the inspector.
fn session_with_cart(server: &Server, value: &str) -> String {
    let body = format!("action=set&key=cart&value={}", urlencode(value));
    let resp = server.request(&form_post("/session/", &body, &[]));
    resp.assert_status(302);
    let set = resp.header("set-cookie").expect("a Set-Cookie");
    set.strip_prefix("sessionid=")
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_string()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn qtys(cart: &Value) -> Vec<(u64, u64)> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_u64().unwrap(), i["qty"].as_u64().unwrap()))
        .collect()
}

#[test]
fn out_of_range_quantities_in_the_session_are_dropped_not_multiplied() {
    let server = Server::start(&[]);
    let sid = session_with_cart(
        &server,
        r#"{"1": 7700000000000000, "2": 3, "3": 18446744073709551615, "4": 0, "5": 100, "6": 2.5, "7": -1, "8": "9"}"#,
    );
    let c = cart(&server, &sid);
    assert_eq!(qtys(&c), vec![(2, 3)], "{c}");
    assert_eq!(c["count"], json!(3));
    assert_eq!(c["total_cents"], json!(3 * 1250));
    // The HTML page too.
    let resp = server.request(
        format!("GET /cart/ HTTP/1.1\r\nHost: x\r\nCookie: sessionid={sid}\r\n\r\n").as_bytes(),
    );
    resp.assert_status(200);
    // Adding to a product whose stored quantity was invalid starts from nothing.
    server
        .request(&form_post(
            "/cart/add/",
            "product=1&qty=2",
            &[&format!("Cookie: sessionid={sid}")],
        ))
        .assert_status(302);
    assert_eq!(qtys(&cart(&server, &sid)), vec![(1, 2), (2, 3)]);
    // Removing one whose quantity is invalid is as for one not in the cart.
    server
        .request(&form_post(
            "/cart/remove/",
            "product=3&qty=1",
            &[&format!("Cookie: sessionid={sid}")],
        ))
        .assert_status(302);
    assert_eq!(qtys(&cart(&server, &sid)), vec![(1, 2), (2, 3)]);
    // Adding to u64::MAX does not wrap or panic either.
    let sid = session_with_cart(&server, r#"{"3": 18446744073709551615}"#);
    server
        .request(&form_post(
            "/cart/add/",
            "product=3&qty=1",
            &[&format!("Cookie: sessionid={sid}")],
        ))
        .assert_status(302);
    assert_eq!(qtys(&cart(&server, &sid)), vec![(3, 1)]);
}

#[test]
fn adding_stops_at_99() {
    let server = Server::start(&[]);
    let sid = session_with_cart(&server, r#"{"1": 98}"#);
    for _ in 0..3 {
        server
            .request(&form_post(
                "/cart/add/",
                "product=1&qty=99",
                &[&format!("Cookie: sessionid={sid}")],
            ))
            .assert_status(302);
        assert_eq!(qtys(&cart(&server, &sid)), vec![(1, 99)]);
    }
    let c = cart(&server, &sid);
    assert_eq!(c["total_cents"], json!(99 * 2400));
    assert_eq!(c["items"][0]["can_add"], json!(false));
}
