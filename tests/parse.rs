//! `/parse/`, the parser playground (SPEC "`/parse/`"): the form, the HTML and JSON
//! answers, the split comparison, and every refusal. Raw bytes in.

mod support;

use serde_json::{Value, json};
use support::{Server, form_post, get};

/// `text` percent-encoded for a urlencoded form body.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json_post(body: &str, accept: &str) -> Vec<u8> {
    format!(
        "POST /parse/ HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn parse_json(server: &Server, body: Value) -> Value {
    let r = server.request(&json_post(&body.to_string(), "application/json"));
    r.assert_status(200);
    r.json()
}

/// The events as `off=N event` short forms, for comparing with the SPEC's list.
fn short(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut s = format!("off={} {}", e["off"], e["event"].as_str().unwrap());
            for k in ["name", "value", "size", "len"] {
                if let Some(v) = e.get(k) {
                    s.push_str(&format!(" {v}"));
                }
            }
            s
        })
        .collect()
}

#[test]
fn get_shows_the_form_prefilled_with_the_spec_example() {
    let s = Server::start(&[]);
    let r = s.request(&get("/parse/"));
    r.assert_status(200);
    r.check_common();
    r.assert_header_starts("content-type", "text/html");
    let body = r.body_str();
    assert!(
        body.contains("<form method=\"post\" action=\"/parse/\">"),
        "{body}"
    );
    assert!(body.contains("<textarea id=\"bytes\" name=\"bytes\""));
    // The example, escapes as text (HTML-escaped by the template).
    assert!(
        body.contains("GET /a?b=1 HTTP/1.1\\r\\n\nHost: x\\r\\n\n\\r\\n</textarea>"),
        "{body}"
    );
    assert!(body.contains("name=\"split\""));
    // And its events below the form.
    assert!(
        body.contains("<td>4</td><td>1</td><td><code>target &quot;/a?b=1&quot;</code></td>"),
        "{body}"
    );
    // As JSON: the example's result, as a POST of it would answer.
    let r = s.request(b"GET /parse/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
    r.assert_status(200);
    let v = r.json();
    assert_eq!(
        (v["bytes"].clone(), v["messages"].clone()),
        (json!(32), json!(1))
    );
    assert_eq!(
        v["events"][2],
        json!({"off": 21, "msg": 1, "event": "header", "name": "Host", "value": "x"})
    );
    // HEAD as GET, without the body.
    let mut c = s.connect();
    c.send(b"HEAD /parse/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_head_response();
    r.assert_status(200);
    assert!(r.body.is_empty());
    // Without the slash: redirected to the page.
    let r = s.request(&get("/parse"));
    r.assert_status(301);
    assert_eq!(r.header("location"), Some("/parse/"));
}

#[test]
fn the_index_links_the_playground_in_the_protocol_chapter() {
    let s = Server::start(&[]);
    let r = s.request(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
    let v = r.json();
    let protocol = v["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "protocol")
        .unwrap();
    assert!(
        protocol["pages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["href"] == "/parse/"),
        "{protocol}"
    );
}

#[test]
fn post_json_lists_the_spec_example_events_with_their_offsets() {
    let s = Server::start(&[]);
    let v = parse_json(
        &s,
        json!({"bytes": "GET /a?b=1 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"}),
    );
    assert_eq!(v["bytes"], 32);
    assert_eq!(v["messages"], 1);
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["waiting"], Value::Null);
    assert_eq!(v["split"], Value::Null);
    assert_eq!(
        short(&v["events"]),
        [
            "off=0 method \"GET\"",
            "off=4 target \"/a?b=1\"",
            "off=21 header \"Host\" \"x\"",
            "off=32 head complete",
            "off=32 message complete",
        ]
    );
    assert_eq!(v["events"][3]["body"], "none");
    // JSON's own escapes are real bytes too: the same request.
    let same = parse_json(
        &s,
        json!({"bytes": "GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n"}),
    );
    assert_eq!(same["events"], v["events"]);
}

#[test]
fn a_json_body_without_accept_gets_json() {
    // `curl -H 'Content-Type: application/json' -d '{…}'`: no Accept, no browser.
    let s = Server::start(&[]);
    let body = r#"{"bytes": "GET / HTTP/1.0\\n\\n"}"#;
    let req = format!(
        "POST /parse/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = s.request(req.as_bytes());
    r.assert_status(200);
    r.assert_header_starts("content-type", "application/json");
    assert_eq!(r.json()["messages"], 1);
    let bad = r#"{"bytes": "\\xZZ"}"#;
    let req = format!(
        "POST /parse/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{bad}",
        bad.len()
    );
    let r = s.request(req.as_bytes());
    r.assert_status(400);
    assert_eq!(r.json()["status"], 400);
}

#[test]
fn post_json_chunked_body_and_split() {
    let s = Server::start(&[]);
    let bytes = "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n";
    let v = parse_json(&s, json!({"bytes": bytes, "split": [5, 17, 58, 60]}));
    let events = short(&v["events"]);
    assert_eq!(
        events[4..],
        [
            "off=56 head complete",
            "off=56 chunk size 5",
            "off=59 chunk data 5",
            "off=66 chunk size 0",
            "off=71 message complete",
        ]
    );
    assert_eq!(v["events"][4]["body"], "chunked");
    assert_eq!(v["split"]["same"], true);
    assert_eq!(v["split"]["count"], 5);
    assert_eq!(
        v["split"]["pieces"],
        json!([[0, 5], [5, 17], [17, 58], [58, 60], [60, 71]])
    );
    assert_eq!(v["split"]["result"], Value::Null);
    // The split as a string works the same.
    let w = parse_json(&s, json!({"bytes": bytes, "split": "5, 17,58,60"}));
    assert_eq!(w["split"], v["split"]);
}

#[test]
fn post_json_error_has_status_line_byte_and_the_offset() {
    let s = Server::start(&[]);
    let v = parse_json(
        &s,
        json!({"bytes": "GET / HTTP/1.1\\r\\nHost: a\\r\\nBad Name: x\\r\\n\\r\\n"}),
    );
    assert_eq!(
        v["error"],
        json!({"status": 400, "line": 3, "byte": 28, "off": 28, "msg": 1,
               "message": "line 3: header name contains a space"})
    );
    assert_eq!(v["events"], json!([]));
    let v = parse_json(&s, json!({"bytes": "GET / HTTP/1.1\\r\\n\\r\\n"}));
    assert_eq!(
        v["error"]["message"],
        "line 1: HTTP/1.1 request without a Host header"
    );
    let v = parse_json(&s, json!({"bytes": "GET / HTTP/3.0\\r\\n"}));
    assert_eq!(v["error"]["status"], 505);
    // Input that ends mid-message: what the parser waits for.
    let v = parse_json(&s, json!({"bytes": "GET / HTTP/1.1\\r\\nHost: a\\r\\n"}));
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["messages"], 0);
    assert_eq!(
        v["waiting"],
        json!({"for": "line 3 of the head: a header field, or the empty line that ends the head",
               "line": 3, "off": 25})
    );
}

#[test]
fn post_form_answers_html_with_the_offending_byte_marked() {
    let s = Server::start(&[]);
    let text = "GET / HTTP/1.1\\r\\n\nHost: a\\r\\n\nBad<Name: x\\r\\n\n\\r\\n";
    let r = s.request(&form_post(
        "/parse/",
        &format!("bytes={}&split=3", enc(text)),
        &["Accept: text/html"],
    ));
    r.assert_status(200);
    r.assert_header_starts("content-type", "text/html");
    let body = r.body_str();
    // Byte 28 is the `<`, escaped in the page and marked.
    assert!(
        body.contains(
            "Host: a\\r\\n\nBad<mark title=\"the offending byte, at offset 28\">&lt;</mark>Name: x"
        ),
        "{body}"
    );
    assert!(
        body.contains("<strong>400</strong> in message 1, line 3, byte 28"),
        "{body}"
    );
    assert!(body.contains("header name contains a character not allowed in a token"));
    assert!(body.contains("The events are the same as for the whole input."));
    // The parse error is a result, not a refusal of the form: said once, below.
    assert_eq!(body.matches("role=\"alert\"").count(), 1, "{body}");
    // The form keeps what was sent.
    assert!(body.contains("value=\"3\""));
}

#[test]
fn bad_escapes_and_bad_splits_are_400_with_the_reason() {
    let s = Server::start(&[]);
    for (body, want) in [
        (
            json!({"bytes": "GET \\xZ1"}),
            "bytes: character 4: \"\\\\xZ1\" is not an escape: \\x needs two hex digits",
        ),
        (
            json!({"bytes": "a\\q"}),
            "bytes: character 1: \"\\\\q\" is not an escape",
        ),
        (json!({"bytes": "GET /"}), ""),
        (
            json!({"bytes": "GET /", "split": [2, 2]}),
            "split: offsets must increase: 2 comes after 2",
        ),
        (
            json!({"bytes": "GET /", "split": [9]}),
            "split: offset 9 is out of range: the input is 5 bytes, so a cut goes at 1 to 4",
        ),
        (
            json!({"bytes": "GET /", "split": ["x"]}),
            "split: \"x\" is not a byte offset",
        ),
        (
            json!({"bytes": "GET /", "split": "1,x"}),
            "split: \"x\" is not a byte offset",
        ),
        (json!({"bytes": 5}), "\"bytes\" must be a string"),
        (json!({}), "the JSON has no \"bytes\""),
        (
            json!({"bytes": "a", "split": {"k": 1}}),
            "\"split\" must be a list of byte offsets like [5, 17], not {\"k\":1}",
        ),
        (
            json!({"bytes": vec!["x"; 100]}),
            "\"bytes\" must be a string (with \\r, \\n, \\t, \\xHH escapes), not [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"…",
        ),
    ] {
        let r = s.request(&json_post(&body.to_string(), "application/json"));
        if want.is_empty() {
            r.assert_status(200);
            continue;
        }
        r.assert_status(400);
        let v = r.json();
        assert_eq!(v["status"], 400);
        let msg = v["error"].as_str().unwrap();
        assert!(msg.starts_with(want), "{body}: {msg}");
    }
    let r = s.request(&json_post("{not json", "application/json"));
    r.assert_status(400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("the body is not valid JSON")
    );
    // A browser gets the form again with the reason, and what it sent.
    let r = s.request(&form_post(
        "/parse/",
        "bytes=GET+%5CxZ1&split=",
        &["Accept: text/html"],
    ));
    r.assert_status(400);
    let body = r.body_str();
    assert!(body.contains("<p class=\"error\" role=\"alert\">bytes: character 4: &quot;\\\\xZ1&quot; is not an escape"), "{body}");
    assert!(body.contains(">GET \\xZ1</textarea>"), "{body}");
    assert!(!body.contains("<h2>Events</h2>"));
    // Without Accept (curl): the page, as every page answers, with the reason.
    let r = s.request(&form_post("/parse/", "bytes=a&split=0", &[]));
    r.assert_status(400);
    r.assert_header_starts("content-type", "text/html");
    assert!(
        r.body_str().contains("split: offset 0 is out of range"),
        "{}",
        r.body_str()
    );
    let r = s.request(&form_post("/parse/", "split=1", &[]));
    r.assert_status(400);
    assert!(
        r.body_str()
            .contains("the form has no &quot;bytes&quot; field"),
        "{}",
        r.body_str()
    );
    // Another content type: 415, naming the two it takes.
    let r = s.request(
        b"POST /parse/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\na",
    );
    r.assert_status(415);
    assert_eq!(
        r.json()["error"],
        "/parse/ takes a form (application/x-www-form-urlencoded) or application/json, not \"text/plain\""
    );
}

#[test]
fn pipelined_messages_and_the_event_cap() {
    let s = Server::start(&[]);
    let one = "GET / HTTP/1.0\\n\\n";
    let v = parse_json(&s, json!({"bytes": one.repeat(300)}));
    assert_eq!(v["messages"], 300);
    assert_eq!(v["events_total"], 1200);
    assert_eq!(v["events"].as_array().unwrap().len(), 1000);
    assert_eq!(v["events"][999]["msg"], 250);
    let r = s.request(&form_post(
        "/parse/",
        &format!("bytes={}", enc(&one.repeat(300))),
        &["Accept: text/html"],
    ));
    assert!(r.body_str().contains("… and 200 more events."));
}

#[test]
fn an_input_past_the_body_limit_is_413() {
    let s = Server::start(&["--max-body", "4096"]);
    let big = "a".repeat(5000);
    let r = s.request(&json_post(
        &json!({"bytes": big}).to_string(),
        "application/json",
    ));
    r.assert_status(413);
    // Just under the limit is parsed.
    let fits = "a".repeat(3000);
    let r = s.request(&json_post(
        &json!({"bytes": fits}).to_string(),
        "application/json",
    ));
    r.assert_status(200);
}

/// The vectors' escapes (`\0` besides the playground's).
fn vector_bytes(text: &str) -> Vec<u8> {
    let text = text.replace("\\0", "\\x00");
    wirepost::http::trace::unescape(&text, false).expect("a vector's input")
}

/// The tracer against the parser's own test vectors (`tests/vectors/request_*.http`,
/// the logs `tests/parser_split.rs` checks): the same messages, data, error (kind,
/// line, byte, status) or wait, whole and byte by byte.
#[test]
fn the_tracer_agrees_with_every_parser_vector() {
    use wirepost::http::trace::{TraceEvent, trace};
    let dir = support::repo_root().join("tests/vectors");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("request_") && name.ends_with(".http")) {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let (input, events) = text
            .split_once("--- input\n")
            .and_then(|(_, rest)| rest.split_once("--- events\n"))
            .unwrap_or_else(|| panic!("{name}: no input or events"));
        let input: Vec<u8> = input.lines().flat_map(vector_bytes).collect();
        let log: Vec<&str> = events.lines().collect();
        let whole = trace(&input, &[]);
        let each: Vec<usize> = (1..input.len()).collect();
        assert!(whole.same_as(&trace(&input, &each)), "{name}: byte by byte");
        for cut in 1..input.len() {
            assert!(
                whole.same_as(&trace(&input, &[cut])),
                "{name}: split at {cut}"
            );
        }
        let ends = log.iter().filter(|l| **l == "end").count();
        assert_eq!(whole.messages as usize, ends, "{name}: messages");
        let heads = log.iter().filter(|l| l.starts_with("head ")).count();
        let methods = whole
            .events
            .iter()
            .filter(|e| matches!(e.event, TraceEvent::Method(_)))
            .count();
        assert_eq!(methods, heads, "{name}: heads");
        let data: u64 = whole
            .events
            .iter()
            .map(|e| match e.event {
                TraceEvent::BodyData(n) | TraceEvent::ChunkData(n) => n,
                _ => 0,
            })
            .sum();
        let want_data: usize = log
            .iter()
            .filter_map(|l| l.strip_prefix("data "))
            .map(|d| vector_bytes(d).len())
            .sum();
        assert_eq!(data as usize, want_data, "{name}: data bytes");
        match log.iter().find(|l| l.starts_with("error ")) {
            Some(line) => {
                let e = whole.error.unwrap_or_else(|| panic!("{name}: no error"));
                let got = format!(
                    "error {:?} line {} byte {} status {}",
                    e.error.kind,
                    e.error.line,
                    e.error.byte,
                    e.error.status()
                );
                assert_eq!(&got, line, "{name}");
            }
            None => assert_eq!(whole.error, None, "{name}"),
        }
        match log.iter().find(|l| l.starts_with("eof ")) {
            Some(line) => {
                let w = whole
                    .waiting
                    .as_ref()
                    .unwrap_or_else(|| panic!("{name}: no wait"));
                let want_line: u32 = line.split(' ').nth(3).unwrap().parse().unwrap();
                assert_eq!(w.line, want_line, "{name}: {line} vs {w:?}");
                assert_eq!(w.off, input.len() as u64, "{name}");
            }
            None => assert_eq!(whole.waiting, None, "{name}"),
        }
    }
    assert!(seen > 30, "only {seen} vectors");
}
