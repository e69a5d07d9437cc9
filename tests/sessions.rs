//! Registration, login and sessions, from the outside (SPEC "Registration and login",
//! "Sessions", the `/user/…` and `/session/` rows, and the Origin rule).
//!
//! Two kinds of client:
//!
//! - **A real one**: `tests/py/sessions_browser.py` drives the pages with Python's
//!   `urllib.request` and an `http.cookiejar.CookieJar`, following 302s as urllib does,
//!   so cookies are stored, expired and sent back by an implementation we did not
//!   write. One test per scenario (register, login, logout, every `/session/` action,
//!   cross-origin POSTs); the script prints `ok:`/`FAIL:` per check.
//! - **Raw bytes**, where the exact wire matters: the `Set-Cookie` lines byte for byte,
//!   no cookie until something is stored, garbage cookies, the Origin rule and the
//!   connection after a 403, expiry and renewal, racing registrations, and a restart on
//!   the same data directory (with the log lines' checksums checked on disk).
//!
//! Password hashing (Argon2id) is slow on purpose, so the tests register and log in
//! only as often as they must, and raw clients that wait for a hash use a long read
//! timeout: a busy machine makes them slower, not failing.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{Client, Response, Server, escape, form_post, temp_dir};

const FOURTEEN_DAYS: u64 = 1_209_600;
/// Read timeout for a response that waits for password hashing on a busy machine.
const HASH_TIMEOUT: Duration = Duration::from_secs(60);

// --- helpers -------------------------------------------------------------------------

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A GET asking for JSON, with extra header lines.
fn get_json(path: &str, extra: &[&str]) -> Vec<u8> {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n");
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}

fn cookie(id: &str) -> String {
    format!("Cookie: sessionid={id}")
}

/// One request on a new connection, waiting as long as hashing may take.
fn slow_request(server: &Server, request: &[u8]) -> Response {
    let mut c = server.connect();
    c.stream.set_read_timeout(Some(HASH_TIMEOUT)).unwrap();
    c.request(request)
}

/// The response's `Set-Cookie` headers for `sessionid`.
fn session_set_cookies(r: &Response) -> Vec<&str> {
    r.header_all("set-cookie")
        .into_iter()
        .filter(|v| v.starts_with("sessionid="))
        .collect()
}

/// The id in the response's single `sessionid` Set-Cookie (fails if there is not one).
#[track_caller]
fn new_id(r: &Response) -> String {
    let all = session_set_cookies(r);
    assert_eq!(
        all.len(),
        1,
        "expected one sessionid Set-Cookie in:\n{}",
        escape(&r.raw)
    );
    let value = all[0]["sessionid=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(
        value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        "a session id is 32 hex digits (128 bits); got {value:?}"
    );
    value
}

/// `Set-Cookie` as wirepost writes a session cookie: `max_age` None for a cookie that
/// ends with the browser.
fn session_cookie_line(id: &str, max_age: Option<u64>) -> String {
    match max_age {
        Some(n) => format!("sessionid={id}; Max-Age={n}; Path=/; HttpOnly; SameSite=Lax"),
        None => format!("sessionid={id}; Path=/; HttpOnly; SameSite=Lax"),
    }
}

const REMOVAL: &str = "sessionid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/";

/// `GET /session/` as JSON with this id (or none).
#[track_caller]
fn session(server: &Server, id: Option<&str>) -> Value {
    let c = id.map(cookie);
    let extra: Vec<&str> = c.iter().map(String::as_str).collect();
    let r = server.request(&get_json("/session/", &extra));
    r.assert_status(200);
    assert!(
        r.header("set-cookie").is_none(),
        "reading the session must not set a cookie:\n{}",
        escape(&r.raw)
    );
    r.json()
}

/// `GET /user/` as JSON with this id (or none).
#[track_caller]
fn user(server: &Server, id: Option<&str>) -> Value {
    let c = id.map(cookie);
    let extra: Vec<&str> = c.iter().map(String::as_str).collect();
    let r = server.request(&get_json("/user/", &extra));
    r.assert_status(200);
    r.json()
}

fn empty_session() -> Value {
    json!({"key": null, "expires": null, "browser_session": false, "data": {}})
}

/// `action=set` on the session `id` (or a new one); the 302.
#[track_caller]
fn set(server: &Server, id: Option<&str>, key: &str, value: &str) -> Response {
    let c = id.map(cookie);
    let extra: Vec<&str> = c.iter().map(String::as_str).collect();
    let body = format!("action=set&key={key}&value={value}");
    let r = server.request(&form_post("/session/", &body, &extra));
    r.assert_status(302);
    r
}

// --- a real client: Python urllib + http.cookiejar -------------------------------------

/// A session key as `/session/` shows it: its first 6 characters and `…` (SPEC).
fn shown(id: &str) -> String {
    format!("{}…", &id[..6])
}

/// Run one scenario of `tests/py/sessions_browser.py` against a fresh server.
fn python_scenario(scenario: &str) {
    let server = Server::start(&[]);
    let script = support::repo_root().join("tests/py/sessions_browser.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(server.addr.port().to_string())
        .arg(scenario)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): these tests need it"));
    assert!(
        out.status.success(),
        "tests/py/sessions_browser.py {scenario} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn python_register_duplicate_and_invalid_input() {
    python_scenario("register");
}

#[test]
fn python_login_with_and_without_remember_cycles_the_id() {
    python_scenario("login");
}

#[test]
fn python_logout_removes_the_cookie_and_the_record() {
    python_scenario("logout");
}

#[test]
fn python_every_session_action() {
    python_scenario("session_actions");
}

#[test]
fn python_cross_origin_posts_change_nothing() {
    python_scenario("cross_origin");
}

// --- raw bytes -----------------------------------------------------------------------

#[test]
fn set_cookie_lines_byte_for_byte() {
    let server = Server::start(&[]);
    // The first write: a new id, 14 days.
    let r = set(&server, None, "color", "green");
    assert_eq!(r.header("location"), Some("/session/"));
    assert_eq!(r.body_str(), "302 Found: see /session/\n");
    let id = new_id(&r);
    assert_eq!(
        r.header_all("set-cookie"),
        [session_cookie_line(&id, Some(FOURTEEN_DAYS))]
    );
    // Until the browser closes: no Max-Age, no Expires.
    let r = server.request(&form_post(
        "/session/",
        "action=expiry&seconds=0",
        &[&cookie(&id)],
    ));
    r.assert_status(302);
    assert_eq!(r.header_all("set-cookie"), [session_cookie_line(&id, None)]);
    // A chosen life.
    let r = server.request(&form_post(
        "/session/",
        "action=expiry&seconds=60",
        &[&cookie(&id)],
    ));
    r.assert_status(302);
    assert_eq!(
        r.header_all("set-cookie"),
        [session_cookie_line(&id, Some(60))]
    );
    // Clear: the cookie is removed (and with it, the id).
    let r = server.request(&form_post("/session/", "action=clear", &[&cookie(&id)]));
    r.assert_status(302);
    assert_eq!(r.header_all("set-cookie"), [REMOVAL]);
    assert_eq!(session(&server, Some(&id)), empty_session());
}

#[test]
fn ids_are_new_random_and_distinct() {
    let server = Server::start(&[]);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let id = new_id(&set(&server, None, "k", "1"));
        assert!(seen.insert(id.clone()), "id {id} handed out twice");
    }
}

#[test]
fn no_session_is_created_until_something_is_stored() {
    let server = Server::start(&[]);
    for req in [
        get_json("/session/", &[]),
        support::get("/session/"),
        get_json("/user/", &[]),
        support::get("/user/"),
        support::get("/user/login/"),
        support::get("/user/register/"),
        support::get("/"),
    ] {
        let r = server.request(&req);
        r.assert_status(200);
        assert!(
            r.header("set-cookie").is_none(),
            "no Set-Cookie expected for {}; got:\n{}",
            escape(&req),
            escape(&r.raw)
        );
    }
    assert_eq!(session(&server, None), empty_session());
    assert_eq!(user(&server, None), Value::Null);
    // Deleting from nothing stores nothing; a refused action neither.
    for body in [
        "action=delete&key=x",
        "action=bogus",
        "action=set&value=1",
        "action=expiry&seconds=x",
    ] {
        let r = server.request(&form_post("/session/", body, &[]));
        assert!(
            r.header("set-cookie").is_none(),
            "{body}: no Set-Cookie expected; got:\n{}",
            escape(&r.raw)
        );
    }
    // The first value creates it, with the default life.
    let before = now();
    let id = new_id(&set(&server, None, "a", "1"));
    let s = session(&server, Some(&id));
    assert_eq!(s["key"], json!(shown(&id)));
    assert_eq!(s["data"], json!({"a": 1}));
    let expires = s["expires"].as_u64().unwrap();
    assert!(
        (before + FOURTEEN_DAYS..=now() + FOURTEEN_DAYS).contains(&expires),
        "expires {expires} is not 14 days from now"
    );
}

#[test]
fn garbage_or_unknown_session_cookies_are_no_session() {
    let server = Server::start(&[]);
    let real = new_id(&set(&server, None, "mine", "1"));
    let long = format!("sessionid={}", "a".repeat(8000));
    let upper = format!("sessionid={}", real.to_ascii_uppercase());
    let cookies: Vec<&[u8]> = vec![
        b"sessionid=",
        b"sessionid",
        b"sessionid=zzz",
        b"sessionid=0123456789abcdef0123456789abcdeg",
        b"sessionid=00000000000000000000000000000000",
        b"sessionid=\"0123456789abcdef0123456789abcdef\"",
        b"sessionid=../../../etc/passwd",
        b"sessionid=%30%31",
        b"sessionid=\xff\xfe\xc3\x28",
        b";;;",
        b"=; =x; ;",
        b"sessionid==",
        long.as_bytes(),
        upper.as_bytes(),
        // The first of a repeated name counts, even when a later one is real.
        b"sessionid=nope; sessionid=",
    ];
    for c in cookies {
        for path in ["/session/", "/user/"] {
            let mut req =
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nCookie: ")
                    .into_bytes();
            req.extend_from_slice(c);
            req.extend_from_slice(b"\r\n\r\n");
            let r = server.request(&req);
            r.assert_status(200);
            let want = if path == "/user/" {
                Value::Null
            } else {
                empty_session()
            };
            assert_eq!(r.json(), want, "Cookie: {}", escape(c));
            assert!(r.header("set-cookie").is_none(), "{}", escape(&r.raw));
        }
        // Writing with it makes a fresh session with a new id.
        let mut req = b"POST /session/ HTTP/1.1\r\nHost: x\r\nCookie: ".to_vec();
        req.extend_from_slice(c);
        let body = "action=set&key=k&value=2";
        req.extend_from_slice(
            format!(
                "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        let r = server.request(&req);
        r.assert_status(302);
        assert_ne!(new_id(&r), real);
    }
    // The real one is untouched.
    assert_eq!(session(&server, Some(&real))["data"], json!({"mine": 1}));
    // A repeated name: the first counts, so a real id second is ignored...
    let r = server.request(&get_json(
        "/session/",
        &[&format!("Cookie: sessionid=nope; sessionid={real}")],
    ));
    assert_eq!(r.json(), empty_session());
    // ... and first, it counts.
    let r = server.request(&get_json(
        "/session/",
        &[&format!(
            "Cookie: other=1; sessionid={real}; sessionid=nope"
        )],
    ));
    assert_eq!(r.json()["key"], json!(shown(&real)));
}

#[test]
fn an_id_the_server_did_not_hand_out_is_never_adopted() {
    // Session fixation by planting: an attacker sets a cookie with an id of their
    // choosing in the victim's browser. The server must not store data under it.
    let server = Server::start(&[]);
    let planted = "0123456789abcdef0123456789abcdef";
    let r = set(&server, Some(planted), "a", "1");
    let id = new_id(&r);
    assert_ne!(id, planted);
    assert_eq!(session(&server, Some(planted)), empty_session());
    assert_eq!(session(&server, Some(&id))["data"], json!({"a": 1}));
}

#[test]
fn origin_rule_on_the_wire() {
    // These requests say `Host: x` with an `Origin`: allowed, to test the CSRF rule alone.
    let server = Server::start(&["--allowed-host", "x"]);
    let id = new_id(&set(&server, None, "x", "1"));
    let c = cookie(&id);
    // Refused: another origin, `null`, another scheme or port on our host.
    for origin in [
        "Origin: http://evil.example",
        "Origin: null",
        "Origin: https://x",
        "Origin: http://x:8080",
    ] {
        let mut conn = server.connect();
        let mut bytes = form_post("/session/", "action=set&key=x&value=666", &[&c, origin]);
        // A pipelined request after the refused one is never answered: the 403 closes.
        bytes.extend_from_slice(&get_json("/session/", &[&c]));
        conn.send(&bytes);
        let r = conn.read_response();
        r.assert_status(403);
        assert!(r.says_close(), "{}", escape(&r.raw));
        assert_eq!(
            r.body_str(),
            "403 Forbidden: cross-origin POST refused: the Origin header names another site than this Host\n"
        );
        assert!(r.header("set-cookie").is_none());
        conn.assert_closed();
        assert_eq!(
            session(&server, Some(&id))["data"],
            json!({"x": 1}),
            "{origin} changed the session"
        );
    }
    // Clear and logout refused too: the session survives.
    for (path, body) in [
        ("/session/", "action=clear"),
        ("/user/logout/", ""),
        ("/session/", "action=expiry&seconds=0"),
    ] {
        let r = server.request(&form_post(path, body, &[&c, "Origin: http://evil.example"]));
        r.assert_status(403);
        let s = session(&server, Some(&id));
        assert_eq!(s["data"], json!({"x": 1}));
        assert_eq!(s["browser_session"], json!(false));
    }
    // Allowed: the same origin (host compared without regard to case), or no Origin.
    for (origin, value) in [
        (Some("Origin: http://x"), "2"),
        (Some("Origin: HTTP://X"), "3"),
        (None, "4"),
    ] {
        let mut extra = vec![c.as_str()];
        extra.extend(origin);
        let r = server.request(&form_post(
            "/session/",
            &format!("action=set&key=x&value={value}"),
            &extra,
        ));
        r.assert_status(302);
        assert_eq!(
            session(&server, Some(&id))["data"]["x"],
            json!(value.parse::<u64>().unwrap()),
            "{origin:?} should be allowed"
        );
    }
    // A GET is never refused for its Origin (it changes nothing).
    let r = server.request(&get_json("/session/", &[&c, "Origin: http://evil.example"]));
    r.assert_status(200);
    // A forged registration creates no user: the name is free afterwards.
    let r = server.request(&form_post(
        "/user/register/",
        "username=forged&password=pw-long-enough",
        &["Origin: http://evil.example"],
    ));
    r.assert_status(403);
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=forged&password=pw-long-enough",
            &[],
        ),
    );
    r.assert_status(302);
}

#[test]
fn an_expired_session_is_refused_on_use() {
    let server = Server::start(&[]);
    let id = new_id(&set(&server, None, "a", "1"));
    let r = server.request(&form_post(
        "/session/",
        "action=expiry&seconds=1",
        &[&cookie(&id)],
    ));
    assert_eq!(
        r.header_all("set-cookie"),
        [session_cookie_line(&id, Some(1))]
    );
    assert_eq!(session(&server, Some(&id))["data"], json!({"a": 1}));
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(session(&server, Some(&id)), empty_session());
    // Writing with the dead id starts a new session.
    let fresh = new_id(&set(&server, Some(&id), "b", "2"));
    assert_ne!(fresh, id);
    assert_eq!(session(&server, Some(&fresh))["data"], json!({"b": 2}));
}

#[test]
fn a_session_is_renewed_when_changed_not_when_read() {
    let server = Server::start(&[]);
    let id = new_id(&set(&server, None, "a", "1"));
    let first = session(&server, Some(&id))["expires"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    // Reading: same expiry, no cookie (checked in `session`).
    assert_eq!(
        session(&server, Some(&id))["expires"].as_u64().unwrap(),
        first
    );
    // Changing: a later expiry and the cookie again, with the full life.
    let r = set(&server, Some(&id), "a", "2");
    assert_eq!(
        r.header_all("set-cookie"),
        [session_cookie_line(&id, Some(FOURTEEN_DAYS))]
    );
    let second = session(&server, Some(&id))["expires"].as_u64().unwrap();
    assert!(second > first, "not renewed: {first} then {second}");
}

#[test]
fn register_answers_302_with_a_browser_session_cookie_and_registration_is_unique() {
    let server = Server::start(&[]);
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=ada&password=analytical-1843",
            &[],
        ),
    );
    r.assert_status(302);
    assert_eq!(r.header("location"), Some("/user/"));
    assert_eq!(r.body_str(), "302 Found: see /user/\n");
    let id = new_id(&r);
    assert_eq!(r.header_all("set-cookie"), [session_cookie_line(&id, None)]);
    assert_eq!(user(&server, Some(&id)), json!({"username": "ada"}));
    // Pipelined: both answers, in order, on one connection.
    let mut c = server.connect();
    c.stream.set_read_timeout(Some(HASH_TIMEOUT)).unwrap();
    let mut both = form_post(
        "/user/register/",
        "username=bob&password=bob-long-enough",
        &[],
    );
    both.extend(form_post(
        "/user/register/",
        "username=bob&password=bob-long-enough",
        &["Accept: application/json"],
    ));
    c.send(&both);
    c.read_response().assert_status(302);
    let r = c.read_response();
    r.assert_status(409);
    assert_eq!(
        r.json(),
        json!({"form": "register", "fields": ["username", "password"], "error": "user already exists"})
    );
}

#[test]
fn concurrent_registrations_of_one_name_exactly_one_wins() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                c.stream.set_read_timeout(Some(HASH_TIMEOUT)).unwrap();
                c.request(&form_post(
                    "/user/register/",
                    &format!("username=race&password=pw-long-enough-{i}"),
                    &[],
                ))
                .status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, [302, 409, 409, 409]);
}

#[test]
fn registering_over_another_users_login_starts_a_clean_session() {
    let server = Server::start(&[]);
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=first&password=pw-long-enough",
            &[],
        ),
    );
    let first = new_id(&r);
    set(&server, Some(&first), "cart", "%7B%223%22%3A1%7D");
    let r = slow_request(
        &server,
        &form_post(
            "/user/register/",
            "username=second&password=pw-long-enough",
            &[&cookie(&first)],
        ),
    );
    r.assert_status(302);
    let second = new_id(&r);
    assert_ne!(second, first);
    // Nothing of the first user's session carries over, and the old id is dead.
    let data = session(&server, Some(&second))["data"].clone();
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_auth_user_id", "_auth_user_hash"], "{data}");
    assert_eq!(data["_auth_user_id"], json!("second"));
    assert_eq!(session(&server, Some(&first)), empty_session());
}

// --- restart -------------------------------------------------------------------------

/// CRC-32 (IEEE), as the store's log lines carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Every line of the store's log: `<8 hex CRC-32 of the JSON> <JSON>`, parsed.
fn log_records(data: &Path) -> Vec<Value> {
    let log = data.join("store/log-00000000.jsonl");
    let text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("{}: {e} (did --data reach the server?)", log.display()));
    text.lines()
        .map(|line| {
            let (crc, json) = line.split_once(' ').expect("a space after the checksum");
            assert_eq!(
                u32::from_str_radix(crc, 16).unwrap(),
                crc32(json.as_bytes()),
                "{line}"
            );
            serde_json::from_str(json).unwrap()
        })
        .collect()
}

#[test]
fn sessions_and_users_survive_a_restart_on_the_same_data_dir() {
    let data = temp_dir("sessions-restart").join("data");
    let data_arg = data.to_str().unwrap();
    let (sid, uid, expires);
    {
        // `--data` given again after the harness's own: the later one wins.
        let server = Server::start(&["--data", data_arg]);
        sid = new_id(&set(&server, None, "basket", "%5B1%2C2%5D"));
        let r = server.request(&form_post(
            "/session/",
            "action=expiry&seconds=0",
            &[&cookie(&sid)],
        ));
        r.assert_status(302);
        expires = session(&server, Some(&sid))["expires"].as_u64().unwrap();
        let r = slow_request(
            &server,
            &form_post(
                "/user/register/",
                "username=kept&password=pw-long-enough",
                &[],
            ),
        );
        r.assert_status(302);
        uid = new_id(&r);
        // Dropping the server kills it (SIGKILL): no orderly shutdown.
    }
    // On disk: one checksummed JSON line per change, in order.
    let records = log_records(&data);
    let ops: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["op"].as_str().unwrap(), r["table"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        [
            ("put", "sessions"),
            ("put", "sessions"),
            ("put", "users"),
            ("put", "sessions")
        ]
    );
    assert_eq!(records[0]["key"], json!(sid));
    assert_eq!(
        records[1]["value"],
        json!({"data": {"basket": [1, 2]}, "expires": expires, "age": 0})
    );
    let phc = records[2]["value"]["password"].as_str().unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(!records[2].to_string().contains("\"pw\""));

    let server = Server::start(&["--data", data_arg]);
    let s = session(&server, Some(&sid));
    assert_eq!(s["key"], json!(shown(&sid)));
    assert_eq!(s["data"], json!({"basket": [1, 2]}));
    assert_eq!(s["expires"], json!(expires));
    assert_eq!(s["browser_session"], json!(true));
    assert_eq!(user(&server, Some(&uid)), json!({"username": "kept"}));
    let r = server.request(&form_post(
        "/user/register/",
        "username=kept&password=x-long-enough",
        &[],
    ));
    r.assert_status(409);
    // And it goes on appending after the replayed lines.
    set(&server, Some(&sid), "more", "1");
    drop(server);
    assert_eq!(log_records(&data).len(), 5);
}
