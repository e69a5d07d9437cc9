//! The session table's bounds, from the outside (SPEC "Security and bounds"): what the
//! inspector `/session/` may write, how deep and how big a session may be, how many
//! there may be and which go first, and the purge of expired ones. Each was a hole
//! found in issue 11: the inspector wrote the login record; a value nested 126 deep
//! was acknowledged and then stopped every restart; a flood of cookieless POSTs grew
//! the table without end.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Response, Server, escape, form_post};

/// A urlencoded POST to `/session/` with `Host: x`, and the session cookie if any.
fn post_session(server: &Server, id: Option<&str>, body: &str) -> Response {
    let cookie = id.map(|id| format!("Cookie: sessionid={id}"));
    let extra: Vec<&str> = cookie.iter().map(String::as_str).collect();
    server.request(&form_post("/session/", body, &extra))
}

fn get_json(server: &Server, path: &str, id: Option<&str>) -> Value {
    let cookie = id.map_or(String::new(), |id| format!("Cookie: sessionid={id}\r\n"));
    let r = server.request(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n{cookie}\r\n")
            .as_bytes(),
    );
    r.assert_status(200);
    r.json()
}

/// The session id a response set.
#[track_caller]
fn new_id(r: &Response) -> String {
    let c = r
        .header_all("set-cookie")
        .into_iter()
        .find(|v| v.starts_with("sessionid="))
        .unwrap_or_else(|| panic!("no sessionid cookie in:\n{}", escape(&r.raw)));
    c["sessionid=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// `action=set` with a value already urlencoded.
fn set(server: &Server, id: Option<&str>, key: &str, value: &str) -> Response {
    post_session(server, id, &format!("action=set&key={key}&value={value}"))
}

/// `[[[…0…]]]` nested `depth` deep, urlencoded.
fn nested(depth: usize) -> String {
    format!("{}0{}", "%5B".repeat(depth), "%5D".repeat(depth))
}

fn stats(server: &Server) -> Value {
    get_json(server, "/__stats", None)
}

#[test]
fn the_inspector_refuses_the_servers_keys() {
    let server = Server::start(&[]);
    // Issue 11's reproduction: this logged the client in as alice.
    let r = set(&server, None, "_auth_user", "%22alice%22");
    r.assert_status(400).assert_body_contains("the server's");
    assert!(r.header("set-cookie").is_none(), "nothing was stored");
    for key in ["_auth_user_id", "_auth_user_hash", "_anything"] {
        set(&server, None, key, "%22alice%22").assert_status(400);
        post_session(&server, None, &format!("action=delete&key={key}")).assert_status(400);
    }
    let id = new_id(set(&server, None, "note", "1").assert_status(302));
    set(&server, Some(&id), "_auth_user_id", "%22alice%22").assert_status(400);
    assert_eq!(
        get_json(&server, "/session/", Some(&id))["data"],
        json!({"note": 1})
    );
    assert_eq!(
        get_json(&server, "/user/", Some(&id))["username"],
        Value::Null
    );
    // Keys that merely contain `_` are the client's.
    set(&server, Some(&id), "my_key", "2").assert_status(302);
}

#[test]
fn a_value_nested_past_32_is_refused_and_the_server_still_restarts() {
    let data = support::temp_dir("deep").join("data");
    let data_arg = data.to_str().unwrap();
    let id;
    {
        let server = Server::start(&["--data", data_arg]);
        id = new_id(set(&server, None, "ok", &nested(32)).assert_status(302));
        for depth in [33, 100, 126, 127] {
            let r = set(&server, Some(&id), "deep", &nested(depth));
            r.assert_status(413);
            r.assert_body_contains(&format!("nests {depth} levels deep"));
            r.assert_body_contains("at most 32");
        }
        // Deeper than serde_json reads: kept as the string it was typed as.
        set(&server, Some(&id), "text", &nested(200)).assert_status(302);
    }
    // Issue 11: a value 125-127 deep was acknowledged, and every start failed after.
    let server = Server::start(&["--data", data_arg]);
    let data = &get_json(&server, "/session/", Some(&id))["data"];
    let mut v = &data["ok"];
    for _ in 0..32 {
        v = &v[0];
    }
    assert_eq!(v, &json!(0));
    assert!(data.get("deep").is_none());
    assert!(data["text"].as_str().unwrap().starts_with("[[[["));
}

#[test]
fn a_session_past_64_kib_is_refused() {
    let server = Server::start(&[]);
    let id = new_id(set(&server, None, "a", &"x".repeat(40_000)).assert_status(302));
    // Each value fits, together they don't: the session is what is bounded.
    let r = set(&server, Some(&id), "b", &"y".repeat(30_000));
    r.assert_status(413)
        .assert_body_contains("at most 65536 bytes");
    let s = get_json(&server, "/session/", Some(&id));
    assert!(s["data"].get("b").is_none(), "nothing was written");
    assert_eq!(s["data"]["a"].as_str().unwrap().len(), 40_000);
    set(&server, Some(&id), "b", &"y".repeat(20_000)).assert_status(302);
    // A new session alone past the bound.
    let r = set(&server, None, "big", &"z".repeat(70_000));
    r.assert_status(413);
    assert!(r.header("set-cookie").is_none());
}

#[test]
fn past_max_sessions_the_least_recently_used_goes_first() {
    let server = Server::start(&["--max-sessions", "3"]);
    let a = new_id(set(&server, None, "n", "1").assert_status(302));
    let b = new_id(set(&server, None, "n", "2").assert_status(302));
    let c = new_id(set(&server, None, "n", "3").assert_status(302));
    // Reading `a` makes it the most recently used; `b` is now the oldest.
    assert_eq!(
        get_json(&server, "/session/", Some(&a))["data"],
        json!({"n": 1})
    );
    let d = new_id(set(&server, None, "n", "4").assert_status(302));
    assert_eq!(stats(&server)["sessions"]["live"], json!(3));
    assert_eq!(get_json(&server, "/session/", Some(&b))["key"], Value::Null);
    for (id, n) in [(&a, 1), (&c, 3), (&d, 4)] {
        assert_eq!(
            get_json(&server, "/session/", Some(id))["data"],
            json!({"n": n})
        );
    }
    // A flood: the count stays at the bound, the newest sessions live.
    let mut last = String::new();
    for i in 0..50 {
        last = new_id(set(&server, None, "flood", &i.to_string()).assert_status(302));
    }
    assert_eq!(stats(&server)["sessions"]["live"], json!(3));
    assert_eq!(
        get_json(&server, "/session/", Some(&last))["data"],
        json!({"flood": 49})
    );
    assert_eq!(get_json(&server, "/session/", Some(&a))["key"], Value::Null);
}

#[test]
fn a_logged_in_session_outlives_anonymous_ones() {
    let server = Server::start(&["--max-sessions", "2"]);
    let body = "username=keeper&password=tangerine-cobalt-1907";
    let mut client = server.connect();
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let r = client.request(
        format!(
            "POST /user/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    r.assert_status(302);
    let user = new_id(&r);
    for i in 0..10 {
        new_id(set(&server, None, "anon", &i.to_string()).assert_status(302));
    }
    // The login session is the oldest of all, yet the anonymous ones went first.
    assert_eq!(
        get_json(&server, "/user/", Some(&user))["username"],
        json!("keeper")
    );
    assert_eq!(stats(&server)["sessions"]["live"], json!(2));
}

#[test]
fn expired_sessions_are_purged_from_the_store() {
    let server = Server::start(&["--purge-every", "0.2"]);
    let short = new_id(set(&server, None, "n", "1").assert_status(302));
    post_session(&server, Some(&short), "action=expiry&seconds=1").assert_status(302);
    let long = new_id(set(&server, None, "n", "2").assert_status(302));
    assert_eq!(stats(&server)["sessions"]["live"], json!(2));
    // Not a timing assertion: wait (up to 30 s) for the purge to happen at all.
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats(&server)["sessions"]["live"] != json!(1) {
        assert!(
            Instant::now() < deadline,
            "never purged: {}",
            stats(&server)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(stats(&server)["store"]["live_records"], json!(1));
    assert_eq!(
        get_json(&server, "/session/", Some(&long))["data"],
        json!({"n": 2})
    );
    assert_eq!(
        get_json(&server, "/session/", Some(&short))["key"],
        Value::Null
    );
}
