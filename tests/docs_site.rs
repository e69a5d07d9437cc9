//! The docs on the site (SPEC row `GET /docs/, /docs/<page>`): `/docs/` renders
//! `docs/README.md`, whose numbered lists are the course order; `/docs/<page>` renders
//! `docs/<page>.md` with its transcripts as `<pre>` blocks and its links to other pages
//! rewritten to `/docs/…`; bad names and symbolic links are refused; every page also
//! answers as JSON.

mod support;

use support::{Response, Server, get, repo_root};

fn docs_dir() -> std::path::PathBuf {
    repo_root().join("docs")
}

/// The harness passes `--docs <repo>/docs`, as it passes `--www`.
fn start() -> Server {
    Server::start(&[])
}

fn get_json(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n").into_bytes()
}

fn get_html(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n").into_bytes()
}

/// The course order, read from `docs/README.md` independently of the server: every
/// line `N. [title](page.md)…`, in order, as (page, title).
fn readme_order() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(docs_dir().join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|line| {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let rest = line[digits..].strip_prefix(". [")?;
            if digits == 0 {
                return None;
            }
            let (title, rest) = rest.split_once("](")?;
            let (target, _) = rest.split_once(')')?;
            let page = target.strip_suffix(".md")?;
            Some((page.to_string(), title.to_string()))
        })
        .collect()
}

/// `&`, `<`, `>` as HTML text shows them.
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The contents of the first fenced block opened with ```` ```kind ````, one line a
/// line, each ending in `\n` (as the markdown has it).
fn first_block(markdown: &str, kind: &str) -> String {
    let open = format!("```{kind}\n");
    let start = markdown.find(&open).unwrap() + open.len();
    let len = markdown[start..].find("\n```").unwrap() + 1;
    markdown[start..start + len].to_string()
}

#[test]
fn readme_lists_every_page_once() {
    let order = readme_order();
    let pages: Vec<&str> = order.iter().map(|(p, _)| p.as_str()).collect();
    for (i, p) in pages.iter().enumerate() {
        assert!(
            !pages[..i].contains(p),
            "{p} is listed twice in docs/README.md"
        );
    }
    for entry in std::fs::read_dir(docs_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(page) = name.strip_suffix(".md") else {
            continue;
        };
        if page != "README" {
            assert!(
                pages.contains(&page),
                "docs/{name} is not in the course list of docs/README.md"
            );
        }
    }
    // Protocol first, the parser playground right after it.
    assert_eq!(&pages[..2], ["protocol", "parse"]);
}

#[test]
fn index_is_the_readme_list_in_order() {
    let server = start();
    let order = readme_order();

    let r = server.request(&get_json("/docs/"));
    r.assert_status(200);
    let json = r.json();
    let listed: Vec<(String, String)> = json["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["page"].as_str().unwrap().to_string(),
                p["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(listed, order);
    assert_eq!(json["pages"][0]["part"], "The course");
    assert_eq!(json["pages"][order.len() - 1]["part"], "Implementer notes");

    // The HTML links every page, in the same order.
    let r = server.request(&get_html("/docs/"));
    r.assert_status(200);
    r.assert_header_starts("Content-Type", "text/html");
    let html = r.body_str();
    let mut at = 0;
    for (page, _) in &order {
        let link = format!("href=\"/docs/{page}\"");
        let found = html[at..]
            .find(&link)
            .unwrap_or_else(|| panic!("{link} missing, or out of order, in /docs/"));
        at += found + link.len();
    }
}

#[test]
fn protocol_page_shows_transcripts_byte_for_byte() {
    let server = start();
    let md = std::fs::read_to_string(docs_dir().join("protocol.md")).unwrap();
    let r = server.request(&get_html("/docs/protocol"));
    r.assert_status(200);
    let html = r.body_str();
    for kind in ["http-request", "http-response"] {
        let block = first_block(&md, kind);
        let pre = format!(
            "<pre><code class=\"language-{kind}\">{}</code></pre>",
            escape_text(&block)
        );
        assert!(
            html.contains(&pre),
            "/docs/protocol lacks the first {kind} block as {pre:?}"
        );
    }
    // A response block's masks show as text, escaped.
    assert!(html.contains("Date: &lt;date&gt;"));
    assert!(html.contains("<title>HTTP/1.1 on the wire"));
}

#[test]
fn links_to_pages_become_docs_addresses() {
    let server = start();
    // The index's "Read: docs/x.md" lines.
    let index = server.request(&get_html("/")).body_str();
    assert!(
        index.contains("<a href=\"/docs/protocol\"><code>docs/protocol.md</code></a>"),
        "the index's Read: lines are not links"
    );
    assert!(
        index.contains("href=\"/docs/\""),
        "the index does not link /docs/"
    );
    // `[protocol.md](protocol.md)` in a page.
    let arch = server.request(&get_html("/docs/architecture")).body_str();
    assert!(arch.contains("<a href=\"/docs/protocol\">protocol.md</a>"));
    // `docs/server.md` as inline code.
    let deps = server.request(&get_html("/docs/dependencies")).body_str();
    assert!(deps.contains("<a href=\"/docs/server\"><code>docs/server.md</code></a>"));
    // A link with an anchor, and the heading it points to carries that id.
    let sessions = server.request(&get_html("/docs/sessions")).body_str();
    assert!(sessions.contains("href=\"/docs/registration#a-new-session-id-on-every-login\""));
    let registration = server.request(&get_html("/docs/registration")).body_str();
    assert!(registration.contains("<h3 id=\"a-new-session-id-on-every-login\">"));
    // No link of a page points at a `.md` file any more.
    for page in [&arch, &deps, &sessions, &registration] {
        assert!(!page.contains(".md\""), "a link to a .md file is left");
    }
}

#[test]
fn learner_notes_are_boxed() {
    let server = start();
    let html = server.request(&get_html("/docs/cookies")).body_str();
    assert!(
        html.contains("<aside class=\"how\">"),
        "cookies.md has no boxed \"How wirepost does it\" note"
    );
    assert!(!html.contains("<blockquote>\n<p><strong>How wirepost does it"));
}

fn assert_refused(r: &Response, status: u16, says: &str) {
    r.assert_status(status);
    r.assert_body_contains(says);
}

#[test]
fn bad_names_are_refused_with_a_reason() {
    let server = start();
    for path in [
        "/docs/..",
        "/docs/%2e%2e",
        "/docs/Protocol",
        "/docs/proto.col",
        "/docs/protocol/",
        "/docs/a%20b",
        "/docs/.hidden",
    ] {
        let r = server.request(&get(path));
        assert_refused(&r, 404, "page names are lowercase letters, digits and -");
    }
    let long = format!("/docs/{}", "a".repeat(100));
    assert_refused(&server.request(&get(&long)), 404, "longer than");
    // A decoded `/` is refused by the router, before the page sees it.
    server.request(&get("/docs/a%2fb")).assert_status(400);
    // An unknown page, in the client's format.
    let r = server.request(&get_json("/docs/nosuchpage"));
    r.assert_status(404);
    r.assert_header_starts("Content-Type", "application/json");
    assert_eq!(r.json()["status"], 404);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("no docs page nosuchpage"),
        "{}",
        r.body_str()
    );
}

#[test]
fn addresses_with_md_or_without_slash_redirect() {
    let server = start();
    let r = server.request(&get("/docs/protocol.md"));
    r.assert_status(301);
    assert_eq!(r.header("Location"), Some("/docs/protocol"));
    let r = server.request(&get("/docs/README.md"));
    r.assert_status(301);
    assert_eq!(r.header("Location"), Some("/docs/"));
    let r = server.request(&get("/docs"));
    r.assert_status(301);
    assert_eq!(r.header("Location"), Some("/docs/"));
}

#[test]
fn head_answers_like_get_without_the_body() {
    let server = start();
    let full = server.request(&get("/docs/protocol"));
    full.assert_status(200);
    let mut c = server.connect();
    c.send(b"HEAD /docs/protocol HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = c.read_head_response();
    head.assert_status(200);
    // The length of the page this HEAD would have got: the page's own part is the
    // GET's, its "On the wire" panel shows this request (HEAD, not GET), so the
    // whole differs a little.
    let len: usize = head.header("Content-Length").unwrap().parse().unwrap();
    let page_part = full
        .body_str()
        .split("<details class=\"wire-panel\">")
        .next()
        .unwrap()
        .len();
    assert!(len > page_part && len < full.body.len() + 4096, "{len}");
    assert!(head.body.is_empty());
    // The connection carries on: nothing of a body was sent.
    let again = c.request(&get("/docs/"));
    again.assert_status(200);
}

#[test]
fn a_page_as_json_is_its_markdown() {
    let server = start();
    let r = server.request(&get_json("/docs/protocol"));
    r.assert_status(200);
    let json = r.json();
    assert_eq!(json["page"], "protocol");
    assert_eq!(json["title"], "HTTP/1.1 on the wire");
    let md = std::fs::read_to_string(docs_dir().join("protocol.md")).unwrap();
    assert_eq!(json["markdown"], md.as_str());
    assert!(r.header("Vary").unwrap().contains("Accept"));
}

#[test]
fn the_site_header_links_the_docs() {
    let server = start();
    let html = server.request(&get_html("/products/")).body_str();
    let nav = &html[html.find("<nav").unwrap()..html.find("</nav>").unwrap()];
    assert_eq!(nav.matches("href=\"/docs/\"").count(), 1);
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed() {
    let dir = support::temp_dir("docs-symlink");
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("README.md"),
        "# Docs\n\n1. [Real](real.md): a page\n",
    )
    .unwrap();
    std::fs::write(docs.join("real.md"), "# Real\n\nhello\n").unwrap();
    let secret = dir.join("secret.md");
    std::fs::write(&secret, "# Secret\n\nnot to be served\n").unwrap();
    std::os::unix::fs::symlink(&secret, docs.join("leak.md")).unwrap();
    std::os::unix::fs::symlink(docs.join("real.md"), docs.join("inside.md")).unwrap();

    let server = Server::start(&["--docs", docs.to_str().unwrap()]);
    server
        .request(&get("/docs/real"))
        .assert_status(200)
        .assert_body_contains("hello");
    for path in ["/docs/leak", "/docs/inside"] {
        let r = server.request(&get(path));
        r.assert_status(404);
        assert!(!r.body_str().contains("not to be served"));
    }
}

#[test]
fn a_missing_docs_directory_is_a_404_not_a_failed_start() {
    let dir = support::temp_dir("docs-missing");
    let missing = dir.join("nowhere");
    let server = Server::start(&["--docs", missing.to_str().unwrap()]);
    let r = server.request(&get("/docs/"));
    r.assert_status(404);
    r.assert_body_contains("--docs");
    server.request(&get("/docs/protocol")).assert_status(404);
}

/// Every `href="/docs/x#a"` and `href="#a"` in every page names a heading that exists.
#[test]
fn every_anchor_link_lands_on_a_heading() {
    let server = start();
    let mut pages: Vec<String> = vec![String::new()];
    pages.extend(
        readme_order()
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| docs_dir().join(format!("{p}.md")).exists()),
    );
    let html_of = |page: &str| {
        let r = server.request(&get_html(&format!("/docs/{page}")));
        r.assert_status(200);
        r.body_str()
    };
    let mut broken = Vec::new();
    for page in &pages {
        let html = html_of(page);
        for piece in html.split("href=\"").skip(1) {
            let href = &piece[..piece.find('"').unwrap()];
            let (target, anchor) = if let Some(a) = href.strip_prefix('#') {
                (page.clone(), a)
            } else if let Some(rest) = href.strip_prefix("/docs/") {
                match rest.split_once('#') {
                    Some((t, a)) => (t.to_string(), a),
                    None => continue,
                }
            } else {
                continue;
            };
            if !pages.contains(&target) {
                continue; // a page not on this branch yet (parse.md)
            }
            let target_html = if &target == page {
                html.clone()
            } else {
                html_of(&target)
            };
            if !target_html.contains(&format!(" id=\"{anchor}\"")) {
                broken.push(format!("/docs/{page}: {href}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to no heading:\n{}",
        broken.join("\n")
    );
}

#[test]
fn docs_pages_carry_the_html_security_headers() {
    let server = start();
    for path in ["/docs/", "/docs/protocol"] {
        let r = server.request(&get(path));
        r.assert_status(200)
            .assert_header_starts("Content-Type", "text/html");
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
        assert_eq!(
            r.header("Content-Security-Policy"),
            Some("frame-ancestors 'none'")
        );
        assert_eq!(r.header("Referrer-Policy"), Some("same-origin"));
    }
}

/// The site's index (`/`) takes its chapters in the course order of `docs/README.md`.
#[test]
fn the_site_index_follows_the_course_order() {
    let server = start();
    let order: Vec<String> = readme_order().into_iter().map(|(p, _)| p).collect();
    let json = server.request(&get_json("/")).json();
    let positions: Vec<usize> = json["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let docs = c["docs"].as_str().unwrap();
            let page = docs
                .strip_prefix("docs/")
                .and_then(|d| d.strip_suffix(".md"))
                .unwrap();
            order
                .iter()
                .position(|p| p == page)
                .unwrap_or_else(|| panic!("{docs} is not in the course"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] <= w[1]),
        "chapters out of the course order: {positions:?}"
    );
    assert_eq!(json["chapters"][0]["docs"], "docs/protocol.md");
}
