//! The docs' Markdown as HTML, for `/docs/` ([`crate::app::pages::docs`]).
//!
//! Theory of operation: `pulldown-cmark` parses the page into events (CommonMark plus
//! tables and strikethrough); [`render`] rewrites the event stream and hands it to the
//! crate's HTML writer, which escapes every text it writes. The rewriting is where our
//! rules live:
//!
//! - **No raw HTML.** pulldown-cmark passes HTML in the Markdown (`<script>`, a
//!   `<div>` block) straight through by default; here every `Html`/`InlineHtml` event
//!   becomes text, so it shows escaped, as typed. The only HTML written unescaped is the
//!   few tags this module makes itself (the boxes, the heading anchors).
//! - **Links** go through [`rewrite_href`]: `x.md`, `docs/x.md` and `x.md#anchor`
//!   become `/docs/x` (`README.md` is `/docs/`); `http:`, `https:`, `mailto:`,
//!   `#anchor` and site paths (`/echo`) stay; anything else (`javascript:`, `data:`,
//!   source files `../src/…`, which the site does not serve) loses its link and keeps
//!   its text. Inline code that is exactly a page's name (`` `docs/server.md` ``)
//!   becomes a link too, so "Read: `docs/x.md`" lines are links.
//! - **Headings** get GitHub's ids (`## A new session id` → `a-new-session-id`, a
//!   repeat gets `-1`, `-2`), so the anchors the pages already link to work, plus (but
//!   the title) a `#` link to themselves.
//! - **Boxes**: a block quote whose first words are `**How wirepost does it**` is an
//!   `<aside class="how">`, the implementer's note beside the learner's text.
//! - **Code blocks** are `<pre><code class="language-…">`: a transcript shows byte for
//!   byte, escaped (`<date>` is `&lt;date&gt;`).

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use std::collections::HashMap;

/// The words that open a boxed implementer note (in bold, first in a block quote).
pub(crate) const HOW_BOX: &str = "How wirepost does it";

/// A page rendered: its HTML and its title (the text of its first `#` heading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub html: String,
    pub title: Option<String>,
}

/// What becomes of a link's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Href {
    /// Written as this.
    To(String),
    /// No link: its text stays, as text.
    Dropped,
}

/// Is `name` a page name: 1–64 of `a-z 0-9 -`?
pub(crate) fn is_page_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The longest page name (ours are at most 17 characters).
pub(crate) const MAX_NAME: usize = 64;

/// The site address of a link to a docs file, if `path` is one: `x.md`, `./x.md`,
/// `docs/x.md`, `README.md` (the index).
fn docs_address(path: &str) -> Option<String> {
    let path = path.strip_prefix("./").unwrap_or(path);
    let path = path.strip_prefix("docs/").unwrap_or(path);
    let name = path.strip_suffix(".md")?;
    if name == "README" {
        Some("/docs/".into())
    } else if is_page_name(name) {
        Some(format!("/docs/{name}"))
    } else {
        None
    }
}

/// Where a link of a docs page points on the site (see the module docs).
pub(crate) fn rewrite_href(dest: &str) -> Href {
    // A browser drops tabs and newlines inside a URL (`java\tscript:`) and trims
    // spaces: nothing of the kind is let through to be read as a scheme.
    if dest.is_empty() || dest.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Href::Dropped;
    }
    if dest.starts_with('#') {
        return Href::To(dest.into());
    }
    // A scheme is what comes before the first `:` if no `/`, `?` or `#` does.
    let scheme_end = dest.find([':', '/', '?', '#']);
    if let Some(i) = scheme_end.filter(|&i| dest.as_bytes()[i] == b':') {
        let scheme = dest[..i].to_ascii_lowercase();
        return match scheme.as_str() {
            "http" | "https" | "mailto" => Href::To(dest.into()),
            _ => Href::Dropped,
        };
    }
    // `//host/…` leaves the site without saying how: not in our docs.
    if dest.starts_with("//") {
        return Href::Dropped;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    if let Some(address) = docs_address(path) {
        return Href::To(match fragment {
            Some(f) => format!("{address}#{f}"),
            None => address,
        });
    }
    if dest.starts_with('/') {
        return Href::To(dest.into());
    }
    // `../src/…`, `../README.md`, `x.png`: files of the repository the site does not
    // serve.
    Href::Dropped
}

/// GitHub's anchor for a heading: lowercase; letters, digits, `-` and `_` kept,
/// spaces as `-`, everything else dropped.
pub(crate) fn slug(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// `s` escaped for an HTML attribute value in double quotes.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::app::html::escape_into(&mut out, s);
    out
}

/// Render a docs page (see the module docs).
pub(crate) fn render(markdown: &str) -> Rendered {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).collect();
    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut title = None;
    let mut ids: HashMap<String, usize> = HashMap::new();
    // Per open block quote: is it a box?
    let mut quotes: Vec<bool> = Vec::new();
    // Per open link or image: was it dropped?
    let mut links: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading { level, .. }) => {
                // The heading's text, for its id (and the page's title).
                let end = events[i..]
                    .iter()
                    .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |p| i + p);
                let text: String = events[i + 1..end]
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                if *level == HeadingLevel::H1 && title.is_none() {
                    title = Some(text.clone());
                }
                let base = slug(&text);
                let n = ids.entry(base.clone()).or_insert(0);
                let id = if *n == 0 { base } else { format!("{base}-{n}") };
                *n += 1;
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id.clone())),
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
                for e in &events[i + 1..end] {
                    push_inline(&mut out, &mut links, e.clone());
                }
                // The page's title needs no link to itself.
                if *level != HeadingLevel::H1 {
                    out.push(Event::Html(CowStr::from(format!(
                        " <a class=\"anchor\" href=\"#{}\" aria-label=\"link to this section\">#</a>",
                        attr(&id)
                    ))));
                }
                if end < events.len() {
                    out.push(events[end].clone());
                }
                i = end + 1;
                continue;
            }
            Event::Start(Tag::BlockQuote(_)) => {
                let boxed = matches!(
                    events.get(i + 1..i + 4),
                    Some([
                        Event::Start(Tag::Paragraph),
                        Event::Start(Tag::Strong),
                        Event::Text(t),
                    ]) if t.as_ref() == HOW_BOX
                );
                quotes.push(boxed);
                if boxed {
                    out.push(Event::Html("<aside class=\"how\">\n".into()));
                } else {
                    out.push(events[i].clone());
                }
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                if quotes.pop() == Some(true) {
                    out.push(Event::Html("</aside>\n".into()));
                } else {
                    out.push(events[i].clone());
                }
            }
            // An HTML block: its lines as a paragraph of text.
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => out.push(Event::End(TagEnd::Paragraph)),
            e => push_inline(&mut out, &mut links, e.clone()),
        }
        i += 1;
    }
    let mut html_out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html_out, out.into_iter());
    Rendered {
        html: html_out,
        title,
    }
}

/// One event, with the rules of the module docs for HTML, links and inline code.
fn push_inline<'a>(out: &mut Vec<Event<'a>>, links: &mut Vec<bool>, e: Event<'a>) {
    match e {
        Event::Html(t) | Event::InlineHtml(t) => out.push(Event::Text(t)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => match rewrite_href(&dest_url) {
            Href::To(to) => {
                links.push(false);
                out.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: to.into(),
                    title,
                    id,
                }));
            }
            Href::Dropped => links.push(true),
        },
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => match rewrite_href(&dest_url) {
            Href::To(to) if !to.starts_with("mailto:") => {
                links.push(false);
                out.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: to.into(),
                    title,
                    id,
                }));
            }
            _ => links.push(true),
        },
        Event::End(TagEnd::Link | TagEnd::Image) => {
            if links.pop() == Some(false) {
                out.push(e);
            }
        }
        // `docs/x.md` as code, outside a link: a link to the page.
        Event::Code(t) if links.is_empty() => match docs_address(&t) {
            Some(to) => {
                out.push(Event::Start(Tag::Link {
                    link_type: pulldown_cmark::LinkType::Inline,
                    dest_url: to.into(),
                    title: "".into(),
                    id: "".into(),
                }));
                out.push(Event::Code(t));
                out.push(Event::End(TagEnd::Link));
            }
            None => out.push(Event::Code(t)),
        },
        e => out.push(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rewritten() {
        let to = |s: &str| Href::To(s.into());
        let cases = [
            ("protocol.md", to("/docs/protocol")),
            ("./protocol.md", to("/docs/protocol")),
            ("docs/protocol.md", to("/docs/protocol")),
            ("sessions.md#recovery", to("/docs/sessions#recovery")),
            (
                "docs/forms-and-uploads.md#a",
                to("/docs/forms-and-uploads#a"),
            ),
            ("README.md", to("/docs/")),
            ("README.md#transcripts", to("/docs/#transcripts")),
            ("#bodies", to("#bodies")),
            ("/echo?a=1", to("/echo?a=1")),
            ("/docs/protocol", to("/docs/protocol")),
            (
                "https://www.rfc-editor.org/rfc/rfc9112",
                to("https://www.rfc-editor.org/rfc/rfc9112"),
            ),
            ("http://127.0.0.1:8000/", to("http://127.0.0.1:8000/")),
            ("mailto:a@b.c", to("mailto:a@b.c")),
            // Not a page name: no link.
            ("Protocol.md", Href::Dropped),
            ("../docs.md", Href::Dropped),
            ("a.b.md", Href::Dropped),
            // Files of the repository: not served.
            ("../src/http/head.rs", Href::Dropped),
            ("../README.md", Href::Dropped),
            ("../fuzz/README.md", Href::Dropped),
            ("picture.png", Href::Dropped),
            // Schemes that run or embed something.
            ("javascript:alert(1)", Href::Dropped),
            ("JavaScript:alert(1)", Href::Dropped),
            ("java\tscript:alert(1)", Href::Dropped),
            (" javascript:alert(1)", Href::Dropped),
            ("\u{1}javascript:alert(1)", Href::Dropped),
            ("data:text/html,<script>alert(1)</script>", Href::Dropped),
            ("vbscript:x", Href::Dropped),
            ("//evil.example/", Href::Dropped),
            ("", Href::Dropped),
        ];
        for (dest, want) in cases {
            assert_eq!(rewrite_href(dest), want, "{dest:?}");
        }
    }

    #[test]
    fn page_names() {
        for ok in [
            "protocol",
            "forms-and-uploads",
            "a",
            "x1",
            &"a".repeat(MAX_NAME),
        ] {
            assert!(is_page_name(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".",
            "a.md",
            "A",
            "a/b",
            "a b",
            "a%2fb",
            "é",
            "a\0",
            &"a".repeat(MAX_NAME + 1),
        ] {
            assert!(!is_page_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn raw_html_is_escaped() {
        let r = render("# T\n\n<script>alert(1)</script>\n\ntext <b onclick=x>bold</b>\n");
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.contains("<b "), "{}", r.html);
        assert!(
            r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("&lt;b onclick=x&gt;bold&lt;/b&gt;"),
            "{}",
            r.html
        );
        // An HTML block of several lines, and a comment.
        let r = render("<div>\n<img src=x onerror=alert(1)>\n</div>\n\n<!-- c -->\n");
        assert!(!r.html.contains("<div") && !r.html.contains("<img") && !r.html.contains("<!--"));
        assert!(
            r.html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{}",
            r.html
        );
    }

    #[test]
    fn dangerous_links_keep_only_their_text() {
        let r = render(
            "[click](javascript:alert(1)) and <javascript:alert(2)> and ![i](javascript:x)\n",
        );
        assert!(
            !r.html
                .to_ascii_lowercase()
                .contains("javascript:alert(1)\"")
        );
        assert!(!r.html.contains("href=\"javascript"), "{}", r.html);
        assert!(!r.html.contains("<img"), "{}", r.html);
        assert!(r.html.contains("click"), "{}", r.html);
        let r = render("[the parser](../src/http/head.rs)\n");
        assert_eq!(r.html, "<p>the parser</p>\n");
    }

    #[test]
    fn links_and_code_names_point_at_pages() {
        let r = render(
            "Read [protocol.md](protocol.md#bodies), then `docs/server.md`; `x.rs` stays.\n",
        );
        assert_eq!(
            r.html,
            "<p>Read <a href=\"/docs/protocol#bodies\">protocol.md</a>, then \
             <a href=\"/docs/server\"><code>docs/server.md</code></a>; <code>x.rs</code> stays.</p>\n"
        );
        // Code inside a link is not linked twice.
        let r = render("[`docs/server.md`](server.md)\n");
        assert_eq!(
            r.html,
            "<p><a href=\"/docs/server\"><code>docs/server.md</code></a></p>\n"
        );
    }

    #[test]
    fn headings_have_github_ids() {
        let r = render(
            "# HTTP/1.1 on the wire\n\n## Why a 302 (post/redirect/get)\n\n\
             ## The login record: `_auth_user_id`\n\n## Same\n\n## Same\n",
        );
        assert_eq!(r.title.as_deref(), Some("HTTP/1.1 on the wire"));
        for id in [
            "http11-on-the-wire",
            "why-a-302-postredirectget",
            "the-login-record-_auth_user_id",
            "same",
            "same-1",
        ] {
            assert!(
                r.html.contains(&format!(" id=\"{id}\"")),
                "{id}: {}",
                r.html
            );
            let linked = r.html.contains(&format!("href=\"#{id}\""));
            assert_eq!(linked, id != "http11-on-the-wire", "{id}: {}", r.html);
        }
        assert_eq!(slug("Cookies on the wire"), "cookies-on-the-wire");
        assert_eq!(
            slug("Stopping: SIGTERM and Ctrl-C"),
            "stopping-sigterm-and-ctrl-c"
        );
    }

    #[test]
    fn transcripts_show_byte_for_byte() {
        let md = "```http-request\nGET / HTTP/1.1\nHost: <any> & \"x\"\n\n```\n";
        let r = render(md);
        assert_eq!(
            r.html,
            "<pre><code class=\"language-http-request\">GET / HTTP/1.1\n\
             Host: &lt;any&gt; &amp; \"x\"\n\n</code></pre>\n"
        );
    }

    #[test]
    fn how_boxes_become_asides() {
        let r = render("> **How wirepost does it**: a log.\n>\n> More.\n\n> A quote.\n");
        assert!(
            r.html
                .starts_with("<aside class=\"how\">\n<p><strong>How wirepost does it</strong>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("More.</p>\n</aside>\n"), "{}", r.html);
        assert!(
            r.html
                .contains("<blockquote>\n<p>A quote.</p>\n</blockquote>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn tables_render() {
        let r = render("| a | b |\n|---|---|\n| 1 | <i>2</i> |\n");
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(
            r.html.contains("<td>&lt;i&gt;2&lt;/i&gt;</td>"),
            "{}",
            r.html
        );
    }
}
