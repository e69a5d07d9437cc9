//! The playground endpoints (SPEC route table): `/status/<code>`, `/redirect/<n>`,
//! `/basic-auth/<user>/<pass>`. Raw bytes in, each status and header checked.

mod support;

use support::{Server, get};

fn req(method: &str, path: &str, headers: &[&str]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

#[test]
fn status_answers_the_code_with_a_short_body() {
    let s = Server::start(&[]);
    for (code, body) in [
        (200, "200 OK\n"),
        (404, "404 Not Found\n"),
        (418, "418 I'm a teapot\n"),
        (500, "500 Internal Server Error\n"),
        (599, "599 Unknown\n"),
    ] {
        let r = s.request(&get(&format!("/status/{code}")));
        r.assert_status(code);
        r.check_common();
        assert_eq!(r.body_str(), body);
        assert!(r.header("location").is_none());
        assert!(r.header("www-authenticate").is_none());
    }
}

#[test]
fn status_3xx_has_location_and_401_has_a_challenge() {
    let s = Server::start(&[]);
    for code in [301, 302, 303, 307, 308] {
        let r = s.request(&get(&format!("/status/{code}")));
        r.assert_status(code);
        assert_eq!(r.header("location"), Some("/"));
    }
    let r = s.request(&get("/status/401"));
    r.assert_status(401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"wirepost\"")
    );
    assert_eq!(r.body_str(), "401 Unauthorized\n");
}

#[test]
fn status_204_and_304_have_no_body() {
    let s = Server::start(&[]);
    for code in [204, 304] {
        let mut c = s.connect();
        c.send(&get(&format!("/status/{code}")));
        let r = c.read_head_response();
        r.assert_status(code);
        assert!(r.body.is_empty());
        // The connection stays usable: the next response is the next one.
        c.send(&get("/status/200"));
        let next = c.read_response();
        next.assert_status(200);
        assert_eq!(next.body_str(), "200 OK\n");
    }
}

#[test]
fn status_takes_every_method_and_ignores_a_body() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.send(b"POST /status/201 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    let r = c.read_response();
    r.assert_status(201);
    assert_eq!(r.body_str(), "201 Created\n");
    // The ignored body was skipped, not read as the next request.
    c.send(&req("DELETE", "/status/202", &[]));
    c.read_response().assert_status(202);
    c.send(&req("PUT", "/status/409", &[]));
    c.read_response().assert_status(409);
    c.send(&req("HEAD", "/status/200", &[]));
    let h = c.read_head_response();
    h.assert_status(200);
    assert_eq!(h.header("content-length"), Some("7"));
    assert!(h.body.is_empty());
}

#[test]
fn status_refuses_1xx_and_bad_codes() {
    let s = Server::start(&[]);
    let r = s.request(&get("/status/100"));
    r.assert_status(400).assert_body_contains("1xx");
    r.check_common();
    for bad in [
        "/status/",
        "/status/99",
        "/status/600",
        "/status/abc",
        "/status/2000",
        "/status/+200",
        "/status/200/x",
    ] {
        s.request(&get(bad))
            .assert_status(400)
            .assert_body_contains("100");
    }
    // The error answers in the client's format, like every error.
    let r = s.request(&req("GET", "/status/x", &["Accept: application/json"]));
    r.assert_status(400);
    assert_eq!(r.json()["status"], 400);
}

#[test]
fn redirect_counts_down_to_zero() {
    let s = Server::start(&[]);
    let r = s.request(&get("/redirect/3"));
    r.assert_status(302);
    r.check_common();
    assert_eq!(r.header("location"), Some("/redirect/2"));
    let r = s.request(&get("/redirect/1"));
    r.assert_status(302);
    assert_eq!(r.header("location"), Some("/redirect/0"));
    let r = s.request(&get("/redirect/0"));
    r.assert_status(200);
    assert!(r.header("location").is_none());
    assert!(!r.body.is_empty());
    let r = s.request(&get("/redirect/20"));
    r.assert_status(302);
    assert_eq!(r.header("location"), Some("/redirect/19"));
    let mut c = s.connect();
    c.send(&req("HEAD", "/redirect/5", &[]));
    let h = c.read_head_response();
    h.assert_status(302);
    assert_eq!(h.header("location"), Some("/redirect/4"));
}

#[test]
fn redirect_refuses_more_than_20_and_non_numbers() {
    let s = Server::start(&[]);
    s.request(&get("/redirect/21"))
        .assert_status(400)
        .assert_body_contains("20");
    for bad in ["/redirect/", "/redirect/x", "/redirect/-1", "/redirect/1/2"] {
        s.request(&get(bad)).assert_status(400);
    }
    let r = s.request(&req("POST", "/redirect/1", &["Content-Length: 0"]));
    r.assert_status(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

const CHALLENGE: &str = "Basic realm=\"wirepost\"";

#[test]
fn basic_auth_challenges_without_credentials() {
    let s = Server::start(&[]);
    let r = s.request(&get("/basic-auth/ada/s3cret"));
    r.assert_status(401);
    r.check_common();
    assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
}

#[test]
fn basic_auth_accepts_exactly_those_credentials() {
    let s = Server::start(&[]);
    // base64("ada:s3cret") = YWRhOnMzY3JldA==
    let r = s.request(&req(
        "GET",
        "/basic-auth/ada/s3cret",
        &["Authorization: Basic YWRhOnMzY3JldA=="],
    ));
    r.assert_status(200);
    r.assert_header_starts("content-type", "application/json");
    assert_eq!(
        r.json(),
        serde_json::json!({"authenticated": true, "user": "ada"})
    );
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    s.request(&req(
        "GET",
        "/basic-auth/ada/s3cret",
        &["Authorization: basic YWRhOnMzY3JldA=="],
    ))
    .assert_status(200);
    // Wrong password, other user, other case: 401 with the challenge again.
    // base64("ada:wrong") = YWRhOndyb25n, base64("Ada:s3cret") = QWRhOnMzY3JldA==
    for cred in ["YWRhOndyb25n", "QWRhOnMzY3JldA=="] {
        let r = s.request(&req(
            "GET",
            "/basic-auth/ada/s3cret",
            &[&format!("Authorization: Basic {cred}")],
        ));
        r.assert_status(401);
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
    }
}

#[test]
fn basic_auth_explains_a_malformed_header() {
    let s = Server::start(&[]);
    for (value, says) in [
        ("Bearer abc", "Basic"),
        ("Basic", "Basic"),
        ("Basic YWRh*mE=", "base64"),
        ("Basic YWRhOnMzY3JldA", "base64"),
        // base64("ada") has no colon
        ("Basic YWRh", "colon"),
    ] {
        let r = s.request(&req(
            "GET",
            "/basic-auth/ada/s3cret",
            &[&format!("Authorization: {value}")],
        ));
        r.assert_status(401).assert_body_contains(says);
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
    }
    s.request(&get("/basic-auth/ada")).assert_status(400);
    s.request(&get("/basic-auth//x")).assert_status(400);
}

#[test]
fn basic_auth_with_curl_u() {
    let s = Server::start(&[]);
    let run = |creds: &str| {
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", creds])
            .arg(s.url("/basic-auth/ada/s3cret"))
            .output()
            .expect("run curl");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run("ada:s3cret"), "200");
    assert_eq!(run("ada:nope"), "401");
}

#[test]
fn redirect_chain_with_curl_l() {
    let s = Server::start(&[]);
    let curl = |extra: &[&str]| {
        std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{num_redirects} %{http_code}",
            ])
            .args(extra)
            .arg(s.url("/redirect/5"))
            .output()
            .expect("run curl")
    };
    // Without -L curl shows the first 302 and stops.
    let out = curl(&[]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0 302");
    // With -L it follows the five hops to the 200.
    let out = curl(&["-L"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5 200");
    // With fewer hops allowed than the chain has, curl gives up (exit 47).
    let out = curl(&["-L", "--max-redirs", "2"]);
    assert_eq!(out.status.code(), Some(47));
}
