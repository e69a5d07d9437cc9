//! Login over the wire: throttling (5 failures for a username lock it, the right
//! password included), case-insensitive usernames, the login record.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{Response, Server, form_post};

/// Hashing takes tens of milliseconds (seconds on a loaded CI machine).
const HASH_TIMEOUT: Duration = Duration::from_secs(60);

fn slow_request(server: &Server, request: &[u8]) -> Response {
    let mut c = server.connect();
    c.stream.set_read_timeout(Some(HASH_TIMEOUT)).unwrap();
    c.request(request)
}

/// The `sessionid` a response sets.
fn session_cookie(r: &Response) -> String {
    let c = r
        .header_all("set-cookie")
        .into_iter()
        .find(|v| v.starts_with("sessionid="))
        .expect("a sessionid cookie");
    c.split(';').next().unwrap().to_string()
}

fn whoami(server: &Server, cookie: &str) -> serde_json::Value {
    let r = server.request(
        format!(
            "GET /user/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nCookie: {cookie}\r\n\r\n"
        )
        .as_bytes(),
    );
    r.assert_status(200);
    r.json()
}

#[test]
fn five_wrong_passwords_then_the_right_one_gets_429_with_retry_after() {
    let server = Server::start(&[]);
    let reg = "username=Grace&password=tangerine-cobalt-1907";
    slow_request(&server, &form_post("/user/register/", reg, &[])).assert_status(302);
    for _ in 0..5 {
        let r = slow_request(
            &server,
            &form_post(
                "/user/login/",
                "username=grace&password=wrong-guess-99",
                &[],
            ),
        );
        r.assert_status(400);
    }
    let right = form_post(
        "/user/login/",
        "username=GRACE&password=tangerine-cobalt-1907",
        &[],
    );
    let r = slow_request(&server, &right);
    r.assert_status(429);
    assert_eq!(r.header("retry-after"), Some("120"));
    r.assert_body_contains("too many failed logins");
    // JSON clients get the message in "error"; every attempt doubles the lock.
    let r = slow_request(
        &server,
        &form_post(
            "/user/login/",
            "username=grace&password=tangerine-cobalt-1907",
            &["Accept: application/json"],
        ),
    );
    r.assert_status(429);
    assert_eq!(r.header("retry-after"), Some("240"));
    assert!(r.json()["error"].as_str().unwrap().contains("too many"));
    // Another username from the same address still logs in (5 of the address's 20).
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=ada&password=analytical-engine-1843",
            &[],
        ),
    );
    r.assert_status(302);
}

#[test]
fn usernames_are_case_insensitive_and_keep_their_display_name() {
    let server = Server::start(&[]);
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=Alice&password=tangerine-cobalt-1907",
            &[],
        ),
    );
    r.assert_status(302);
    assert_eq!(
        whoami(&server, &session_cookie(&r)),
        json!({"username": "Alice"})
    );
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=alice&password=another-long-phrase",
            &[],
        ),
    );
    r.assert_status(409);
    let r = slow_request(
        &server,
        &form_post(
            "/user/login/",
            "username=ALICE&password=tangerine-cobalt-1907",
            &[],
        ),
    );
    r.assert_status(302);
    assert_eq!(
        whoami(&server, &session_cookie(&r)),
        json!({"username": "Alice"})
    );
}
