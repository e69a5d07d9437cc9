//! The wire log and the "On the wire" panel (SPEC "Seeing the exchange"): what a
//! client sent and was sent, byte for byte, numbered by connection and request; its
//! bounds; secrets cut; the panel on every HTML page; the pages that show what they
//! just sent (product, cookie lab); who is logged in.

mod support;

use serde_json::Value;
use support::{Client, Server, form_post, get};

const JSON: &str = "Accept: application/json";

/// `/wire/` as JSON, asked on a connection of its own.
fn wire(server: &Server) -> Value {
    let r = server.request(
        b"GET /wire/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
    );
    r.assert_status(200);
    r.json()
}

fn exchanges(server: &Server) -> Vec<Value> {
    wire(server)["exchanges"].as_array().unwrap().clone()
}

/// `sessionid=…` from a response's `Set-Cookie`.
fn session_cookie(r: &support::Response) -> String {
    let set = r.header_all("set-cookie");
    let c = set
        .iter()
        .find(|v| v.starts_with("sessionid="))
        .expect("a session cookie");
    c.split(';').next().unwrap().to_string()
}

/// The raw head of a response as received.
fn head_of(raw: &[u8]) -> String {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    String::from_utf8(raw[..end].to_vec()).unwrap()
}

#[test]
fn pipelined_requests_show_their_connection_and_number_byte_for_byte() {
    let server = Server::start(&[]);
    let first = b"GET /status/200 HTTP/1.1\r\nHost: x\r\nX-Mine: 1\r\n\r\n";
    let second = b"GET /redirect/0 HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut c = server.connect();
    c.send(&[&first[..], &second[..]].concat());
    let a = c.read_response();
    let b = c.read_response();
    let got = exchanges(&server);
    assert_eq!(got.len(), 2, "{got:#?}");
    // Newest first: the second request of the same connection.
    assert_eq!(got[0]["request"], 2);
    assert_eq!(got[1]["request"], 1);
    assert_eq!(got[0]["conn"], got[1]["conn"]);
    assert_eq!(
        got[1]["request_head"],
        String::from_utf8_lossy(first).as_ref()
    );
    assert_eq!(
        got[0]["request_head"],
        String::from_utf8_lossy(second).as_ref()
    );
    assert_eq!(got[1]["response_head"], head_of(&a.raw));
    assert_eq!(got[0]["response_head"], head_of(&b.raw));
    assert_eq!(got[1]["body_bytes"], 0);
    assert_eq!(got[1]["body_text"], Value::Null);
    assert!(got[0]["time"].as_u64().unwrap() >= got[1]["time"].as_u64().unwrap());

    // A new connection: a new number, its request 1.
    server.request(&get("/status/200")).assert_status(200);
    let got = exchanges(&server);
    assert_ne!(got[1]["conn"], got[2]["conn"], "{got:#?}");
    assert_eq!(got[1]["request"], 1);
}

#[test]
fn bodies_are_counted_and_shown_when_text_with_passwords_hidden() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.request(&form_post("/echo", "a=1&b=two", &[]))
        .assert_status(200);
    let png = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 6\r\n\r\n\x89PNG\x00\x01";
    c.request(png).assert_status(200);
    c.request(&form_post(
        "/user/login/",
        "username=ada&password=analytical-engine-1843",
        &[],
    ));
    let got = exchanges(&server);
    assert_eq!(got[2]["body_bytes"], 9);
    assert_eq!(got[2]["body_text"], "a=1&b=two");
    assert_eq!(got[1]["body_bytes"], 6);
    assert_eq!(got[1]["body_text"], Value::Null);
    assert_eq!(got[0]["body_text"], "username=ada&password=•••");
    let all = wire(&server).to_string();
    assert!(
        !all.contains("analytical"),
        "a password in the wire log: {all}"
    );
}

#[test]
fn a_chunked_body_counts_its_decoded_bytes() {
    let server = Server::start(&[]);
    let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    server.connect().request(req).assert_status(200);
    let got = exchanges(&server);
    assert_eq!(got[0]["body_bytes"], 11);
    assert_eq!(got[0]["body_text"], "hello world");
}

#[test]
fn a_sessionid_is_cut_wherever_the_log_shows_it() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let set = c.request(&form_post(
        "/session/",
        "action=set&key=colour&value=blue",
        &[],
    ));
    let cookie = set
        .header_all("set-cookie")
        .into_iter()
        .find(|v| v.starts_with("sessionid="))
        .expect("a session cookie")
        .to_string();
    let key = cookie["sessionid=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(key.len() > 20);
    c.request(
        format!("GET /session/ HTTP/1.1\r\nHost: x\r\nCookie: sessionid={key}\r\n{JSON}\r\n\r\n")
            .as_bytes(),
    )
    .assert_status(200);
    let log = wire(&server);
    let text = log.to_string();
    assert!(!text.contains(&key), "the whole key in the log: {text}");
    let got = log["exchanges"].as_array().unwrap();
    let cut = format!("sessionid={}…", &key[..6]);
    assert!(
        got[0]["request_head"]
            .as_str()
            .unwrap()
            .contains(&format!("Cookie: {cut}\r\n"))
    );
    assert!(
        got[1]["response_head"]
            .as_str()
            .unwrap()
            .contains(&format!("Set-Cookie: {cut};"))
    );
}

#[test]
fn a_client_sees_only_its_own_address() {
    let server = Server::start(&[]);
    server.request(&get("/status/200")).assert_status(200);
    // The same server asked from 127.0.0.2 (another loopback address) sees nothing of
    // 127.0.0.1's exchange.
    let script = format!(
        "import socket\ns=socket.socket()\ns.bind(('127.0.0.2',0))\ns.connect(('127.0.0.1',{}))\n\
         s.sendall(b'GET /wire/ HTTP/1.1\\r\\nHost: x\\r\\nAccept: application/json\\r\\nConnection: close\\r\\n\\r\\n')\n\
         d=b''\nwhile True:\n    k=s.recv(65536)\n    if not k: break\n    d+=k\nprint(d.split(b'\\r\\n\\r\\n',1)[1].decode())",
        server.addr.port()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let other: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(other["exchanges"], serde_json::json!([]));
    // 127.0.0.1 still has its own (the `/status/200`; this `/wire/` is not in yet).
    let own = exchanges(&server);
    assert_eq!(own.len(), 1);
    assert_eq!(
        own[0]["request_head"],
        "GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"
    );
}

#[test]
fn the_log_keeps_256_exchanges_of_at_most_8_kib() {
    let server = Server::start(&["--workers", "1"]);
    let mut c = server.connect();
    for i in 0..300 {
        c.request(format!("GET /status/204?i={i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .assert_status(204);
    }
    let long = format!(
        "GET /status/200 HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\n\r\n",
        "a".repeat(12_000)
    );
    c.request(long.as_bytes()).assert_status(200);
    let got = exchanges(&server);
    assert_eq!(got.len(), 256);
    let newest = &got[0];
    let kept = newest["request_head"].as_str().unwrap().len()
        + newest["response_head"].as_str().unwrap().len();
    assert!(kept <= 8 * 1024, "{kept} bytes kept");
    let cut = newest["request_head_cut"].as_u64().unwrap() as usize;
    assert_eq!(
        newest["request_head"].as_str().unwrap().len() + cut,
        long.len()
    );
    // The oldest kept is request 46 (300 + 1 + this connection's 256 newest).
    assert_eq!(got[255]["request"], 301 - 255);
}

#[test]
fn with_two_workers_the_log_still_keeps_at_most_256() {
    // Each worker keeps its share (128 of 256): one connection lives on one worker.
    let server = Server::start(&["--workers", "2"]);
    let mut c = server.connect();
    for _ in 0..300 {
        c.request(&get("/status/200")).assert_status(200);
    }
    assert_eq!(exchanges(&server).len(), 128);
}

#[test]
fn a_refused_request_is_in_the_log_with_its_answer() {
    let server = Server::start(&[]);
    let bad = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n";
    let r = server.connect().request(bad);
    r.assert_status(400);
    let got = exchanges(&server);
    assert_eq!(
        got[0]["request_head"],
        String::from_utf8_lossy(bad).as_ref()
    );
    assert!(
        got[0]["response_head"]
            .as_str()
            .unwrap()
            .starts_with("HTTP/1.1 400 Bad Request\r\n")
    );
}

#[test]
fn recording_can_be_turned_off() {
    let server = Server::start(&["--wire-log=off"]);
    server.request(&get("/status/200")).assert_status(200);
    let w = wire(&server);
    assert_eq!(w["recording"], false);
    assert_eq!(w["exchanges"], serde_json::json!([]));
    let page = server.request(&get("/"));
    page.assert_body_contains("Recording is off");
}

#[test]
fn every_html_page_has_the_panel_with_the_302_that_led_to_it() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let added = c.request(&form_post("/cart/add/", "product=2&qty=3", &[]));
    added.assert_status(302);
    let cookie = session_cookie(&added);
    let page = c.request(
        format!("GET /cart/ HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nAccept: text/html\r\n\r\n")
            .as_bytes(),
    );
    page.assert_status(200);
    let body = page.body_str();
    assert!(body.contains("<details class=\"wire-panel\">"), "{body}");
    assert!(body.contains("<summary>On the wire</summary>"));
    // This request's head, CRLFs written out, the key cut.
    assert!(body.contains("GET /cart/ HTTP/1.1\\r\\n"), "{body}");
    assert!(
        body.contains(&format!("Cookie: {}…\\r\\n", &cookie[..16])),
        "{body}"
    );
    assert!(!body.contains(&cookie), "the whole session key on the page");
    // The previous exchange: the POST and its 302 with Location and Set-Cookie.
    assert!(body.contains("POST /cart/add/ HTTP/1.1\\r\\n"));
    assert!(body.contains("HTTP/1.1 302 Found\\r\\n"));
    assert!(body.contains("Location: /cart/\\r\\n"));
    assert!(body.contains(&format!("Set-Cookie: {}…;", &cookie[..16])));
    assert!(
        body.contains("product=2&amp;qty=3"),
        "the POST's body, escaped"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.header("vary").unwrap().contains("Cookie"));

    // Not on what is not a page.
    let plain = c.request(&get("/plaintext"));
    assert!(!plain.body_str().contains("On the wire"));
    assert_eq!(plain.header("cache-control"), None);
    let json = c.request(format!("GET /cart/ HTTP/1.1\r\nHost: x\r\n{JSON}\r\n\r\n").as_bytes());
    assert!(!json.body_str().contains("On the wire"));
    // On an error page too, and the bytes shown escaped.
    let missing = c.request(b"GET /nope?<script> HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n");
    missing.assert_status(404);
    let b = missing.body_str();
    assert!(b.contains("On the wire"));
    assert!(b.contains("GET /nope?&lt;script&gt; HTTP/1.1"));
    assert!(!b.contains("<script>"));
}

#[test]
fn the_panel_of_a_page_answered_later_is_there_too() {
    // A refused login is answered after the password check on the hashing threads:
    // the form again, dressed like every page.
    let server = Server::start(&[]);
    let r = server.connect().request(&form_post(
        "/user/login/",
        "username=nobody&password=not-the-password-1",
        &["Accept: text/html"],
    ));
    assert!(r.status >= 400, "{}", r.status);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let body = r.body_str();
    assert!(body.contains("<summary>On the wire</summary>"), "{body}");
    assert!(body.contains("POST /user/login/ HTTP/1.1\\r\\n"), "{body}");
}

#[test]
fn a_product_page_shows_the_history_it_sends() {
    let server = Server::start(&[]);
    let r = server
        .connect()
        .request(b"GET /products/2/ HTTP/1.1\r\nHost: x\r\nCookie: history=1\r\n\r\n");
    r.assert_status(200);
    let sent = r.header("set-cookie").unwrap();
    assert!(sent.starts_with("history=2.1;"), "{sent}");
    r.assert_body_contains(&format!("Set-Cookie: {sent}"));
    assert!(!r.body_str().contains("history=…"));
}

#[test]
fn the_cookie_lab_shows_the_set_cookie_it_just_sent() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.request(&form_post(
        "/cookies/a/",
        "name=flavour&value=oat&path=/cookies/a&max_age=60",
        &[],
    ))
    .assert_status(302);
    let page = c.request(b"GET /cookies/a/ HTTP/1.1\r\nHost: x\r\nCookie: flavour=oat\r\n\r\n");
    page.assert_status(200);
    let body = page.body_str();
    let just = body.split("Just sent").nth(1).expect("a Just sent box");
    assert!(
        just.contains("Set-Cookie: flavour=oat; Max-Age=60; Path=/cookies/a"),
        "{just}"
    );
    // Without a POST before it, no such box.
    let again = c.request(b"GET /cookies/a/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(!again.body_str().contains("Just sent"));
}

#[test]
fn the_header_says_who_is_logged_in() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let page = c.request(&get("/"));
    page.assert_body_contains("Not logged in");
    let reg = c.request(&form_post(
        "/user/register/",
        "username=Hopper&password=cobol-compiler-1959",
        &[],
    ));
    reg.assert_status(302);
    let cookie = session_cookie(&reg);
    let page = c.request(
        format!("GET /products/ HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n").as_bytes(),
    );
    page.assert_body_contains("You are logged in as <strong>Hopper</strong>");
}

#[test]
fn a_client_that_reads_the_log_while_others_write_never_stalls_them() {
    // Readers and writers at once on two workers: every request is answered and the
    // log stays consistent (each exchange whole).
    let server = Server::start(&["--workers", "2"]);
    let addr = server.addr;
    let writers: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                for _ in 0..300 {
                    c.request(&get("/status/200")).assert_status(200);
                }
            })
        })
        .collect();
    for _ in 0..20 {
        for e in exchanges(&server) {
            let req = e["request_head"].as_str().unwrap();
            let resp = e["response_head"].as_str().unwrap();
            assert!(
                req.ends_with("\r\n\r\n") && resp.ends_with("\r\n\r\n"),
                "{e}"
            );
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    let w = wire(&server);
    let kept = w["exchanges"].as_array().unwrap().len();
    assert!((128..=256).contains(&kept), "{kept} kept");
}

#[test]
fn timed_answers_are_recorded_too() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let s = c.request(&get("/stream/2"));
    assert!(s.chunked);
    c.request(&get("/delay/0.1")).assert_status(200);
    let got = exchanges(&server);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0]["request_head"]
            .as_str()
            .unwrap()
            .starts_with("GET /delay/0.1 ")
    );
    assert!(
        got[0]["response_head"]
            .as_str()
            .unwrap()
            .starts_with("HTTP/1.1 200 OK\r\n")
    );
    assert!(
        got[1]["request_head"]
            .as_str()
            .unwrap()
            .starts_with("GET /stream/2 ")
    );
    let streamed = got[1]["response_head"].as_str().unwrap();
    assert!(
        streamed.contains("Transfer-Encoding: chunked\r\n"),
        "{streamed}"
    );
    assert_eq!(streamed, head_of(&s.raw));
}

#[test]
fn the_benchmark_endpoints_are_not_recorded() {
    // Recording would cost their pipelined load more than the SPEC's 5%.
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.request(&get("/plaintext")).assert_status(200);
    c.request(&get("/json")).assert_status(200);
    c.request(&get("/status/200")).assert_status(200);
    let got = exchanges(&server);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["request"], 3, "still counted on their connection");
}
