//! Request bodies as forms: urlencoded bodies into the same multi-map as the query,
//! the field cap, bodies over the limit, and bodies the route leaves unread.

mod support;

use serde_json::json;
use support::Server;

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn urlencoded_form_keeps_order_repeats_and_decoding() {
    let server = Server::start(&[]);
    let resp = server.request(&post(
        "/echo?q=1",
        "application/x-www-form-urlencoded",
        b"name=Ada+Lovelace&lang=en&lang=fr&sym=%26%3D%2B&bad=%zz",
    ));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(
        v["form"],
        json!({"name": ["Ada Lovelace"], "lang": ["en", "fr"], "sym": ["&=+"], "bad": ["%zz"]})
    );
    assert_eq!(v["query"], json!({"q": ["1"]}));
}

#[test]
fn a_thousand_fields_pass_and_one_more_is_400() {
    let server = Server::start(&[]);
    let body = |n: usize| {
        (0..n)
            .map(|i| format!("f{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let resp = server.request(&post(
        "/echo",
        "application/x-www-form-urlencoded",
        body(1000).as_bytes(),
    ));
    resp.assert_status(200);
    assert_eq!(resp.json()["form"].as_object().unwrap().len(), 1000);
    let resp = server.request(&post(
        "/echo",
        "application/x-www-form-urlencoded",
        body(1001).as_bytes(),
    ));
    resp.assert_status(400);
    resp.assert_body_contains("too many form fields");
}

#[test]
fn max_body_flag_sets_the_buffered_limit() {
    let server = Server::start(&["--max-body", "100"]);
    let resp = server.request(&post("/echo", "text/plain", &[b'x'; 100]));
    resp.assert_status(200);
    assert_eq!(resp.json()["body_bytes"], json!(100));
    let mut c = server.connect();
    let resp = c.request(&post("/echo", "text/plain", &[b'x'; 101]));
    resp.assert_status(413);
    assert!(resp.says_close());
}

#[test]
fn echo_lists_multipart_files_with_sizes_and_text_fields_in_form() {
    let server = Server::start(&[]);
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello there\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nabc\r\n\
--XyZ--\r\n";
    let resp = server.request(&post("/echo", "multipart/form-data; boundary=XyZ", body));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(v["form"], json!({"title": ["hello there"]}));
    assert_eq!(
        v["files"],
        json!([{"field": "f", "filename": "a.txt", "content_type": "text/plain", "size": 3}])
    );
    assert_eq!(v["body_bytes"], json!(body.len()));
    // A malformed multipart body is a 400 that says what is wrong.
    let resp = server.request(&post(
        "/echo",
        "multipart/form-data; boundary=XyZ",
        b"--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nno end",
    ));
    resp.assert_status(400);
}
