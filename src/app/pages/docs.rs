//! `/docs/` and `/docs/<page>`: the pages of `docs/` (`--docs DIR`), rendered
//! ([`crate::app::markdown`]), as HTML (`docs.html`) or as JSON.
//!
//! Theory of operation: every request reads its file from the docs directory, in a
//! debug build and a release build alike, so an edit shows at the next reload; the
//! pages are small (the largest is under 100 KiB) and a page is read and rendered in
//! well under a millisecond, which a page read by a person does not feel. Nothing is
//! cached, so nothing can go stale.
//!
//! - `/docs/` renders `docs/README.md`. Its numbered lists are the course: each
//!   `N. [title](page.md): …` line is a page, in reading order, under the `##`
//!   heading of its part ([`course`]). The JSON form is that list.
//! - `/docs/<page>` renders `docs/<page>.md`, with links to the previous and next
//!   page of the course. Its JSON form is `{"page", "title", "markdown"}`.
//! - A page name is 1–64 of `a-z 0-9 -` ([`markdown::is_page_name`]); anything else
//!   (`..`, `.hidden`, `a.b`, capitals) is a 404 that says so, before the disk is
//!   touched. `/docs/<page>.md` (and `/docs/README.md`) is a 301 to the page's own
//!   address, so a link copied from the repository works.
//! - The file is opened with [`files::open_inside`]: no symbolic link is followed, as
//!   for `/static/`, and only regular files are read, at most [`MAX_PAGE_BYTES`].

use crate::app::App;
use crate::app::exchange::{Body, Request, Response};
use crate::app::files;
use crate::app::markdown;
use crate::app::view::{Vary, respond_extra};
use crate::http::Problem;
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

/// The largest docs page served (ours are under 100 KiB): the bound on what one
/// request reads into memory.
pub(crate) const MAX_PAGE_BYTES: u64 = 1 << 20;

/// One page of the course, from a line of `docs/README.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// `protocol` for `protocol.md`.
    pub page: String,
    /// The link's text.
    pub title: String,
    /// The `##` heading the line is under (`The course`, `Implementer notes`).
    pub part: String,
}

/// The course in `readme`: every line `N. [title](page.md)…`, in order.
pub(crate) fn course(readme: &str) -> Vec<Entry> {
    let mut part = String::new();
    let mut entries = Vec::new();
    for line in readme.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            part = heading.trim().to_string();
            continue;
        }
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let Some(rest) = line[digits..].strip_prefix(". [") else {
            continue;
        };
        let Some((title, rest)) = rest.split_once("](") else {
            continue;
        };
        let Some((target, _)) = rest.split_once(')') else {
            continue;
        };
        if let Some(page) = target
            .strip_suffix(".md")
            .filter(|p| markdown::is_page_name(p))
        {
            entries.push(Entry {
                page: page.to_string(),
                title: title.to_string(),
                part: part.clone(),
            });
        }
    }
    entries
}

/// The pages of the course in order (`protocol`, …); none without the docs.
pub(crate) fn course_pages(app: &App) -> Vec<String> {
    read(app, "README.md")
        .map(|r| course(&r).into_iter().map(|e| e.page).collect())
        .unwrap_or_default()
}

/// Why a docs file could not be had.
enum Missing {
    /// Absent, a symlink, not a regular file: a 404.
    NotFound,
    /// Unreadable, too large, an I/O error: logged, a 500.
    Failed,
}

/// The text of `file` in the docs directory.
fn read(app: &App, file: &str) -> Result<String, Missing> {
    let opened = files::open_inside(app.docs_dir(), Path::new(file));
    let (f, meta) = match opened {
        Ok(Some(found)) => found,
        Ok(None) => return Err(Missing::NotFound),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Err(Missing::NotFound);
        }
        Err(e) => {
            log::warn!("docs {file}: {e}");
            return Err(Missing::Failed);
        }
    };
    if meta.len() > MAX_PAGE_BYTES {
        log::warn!(
            "docs {file}: {} bytes, more than the {MAX_PAGE_BYTES} a page may have",
            meta.len()
        );
        return Err(Missing::Failed);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take`: the file may have grown since its length was read.
    if let Err(e) = f.take(MAX_PAGE_BYTES).read_to_end(&mut bytes) {
        log::warn!("docs {file}: {e}");
        return Err(Missing::Failed);
    }
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()))
}

fn failed(app: &App, req: &Request<'_>) -> Response {
    app.problem_for(req, Problem::new(500, "the docs page could not be read"))
}

/// `GET /docs/`: `README.md` rendered; as JSON, the course.
pub(crate) fn index(app: &App, req: &Request<'_>) -> Response {
    let readme = match read(app, "README.md") {
        Ok(text) => text,
        Err(Missing::NotFound) => {
            return app.problem_for(
                req,
                Problem::new(
                    404,
                    "there are no docs here: the server was started without its docs \
                     directory (start it with --docs DIR)",
                ),
            );
        }
        Err(Missing::Failed) => return failed(app, req),
    };
    let pages: Vec<Value> = course(&readme)
        .into_iter()
        .map(|e| json!({"page": e.page, "title": e.title, "part": e.part}))
        .collect();
    let rendered = markdown::render(&readme);
    let title = rendered.title.unwrap_or_else(|| "Docs".into());
    let data = json!({"title": title, "pages": pages});
    let extra = json!({"html": rendered.html, "index": true});
    respond_extra(app, req, 200, "docs.html", &data, extra, Vary::Accept)
}

/// `GET /docs/<page>`: `docs/<page>.md` rendered; as JSON, its Markdown.
pub(crate) fn page(app: &App, req: &Request<'_>, name: &str) -> Response {
    if name == "README" || name == "README.md" {
        return moved("/docs/");
    }
    if let Some(stem) = name
        .strip_suffix(".md")
        .filter(|s| markdown::is_page_name(s))
    {
        return moved(&format!("/docs/{stem}"));
    }
    if name.len() > markdown::MAX_NAME {
        let message = format!(
            "no docs page: the name is longer than {} characters",
            markdown::MAX_NAME
        );
        return app.problem_for(req, Problem::new(404, message));
    }
    if !markdown::is_page_name(name) {
        let message = format!(
            "no docs page {name:?}: page names are lowercase letters, digits and - \
             (as in /docs/protocol)"
        );
        return app.problem_for(req, Problem::new(404, message).with_offending(name));
    }
    let markdown_text = match read(app, &format!("{name}.md")) {
        Ok(text) => text,
        Err(Missing::NotFound) => {
            let message = format!("no docs page {name} (the pages are listed at /docs/)");
            return app.problem_for(req, Problem::new(404, message));
        }
        Err(Missing::Failed) => return failed(app, req),
    };
    let rendered = markdown::render(&markdown_text);
    let title = rendered.title.unwrap_or_else(|| name.to_string());
    // The neighbours in the course, for the links under the page.
    let order = read(app, "README.md")
        .map(|r| course(&r))
        .unwrap_or_default();
    let at = order.iter().position(|e| e.page == name);
    let link = |e: &Entry| json!({"href": format!("/docs/{}", e.page), "title": e.title});
    let prev = at
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| order.get(i))
        .map(link);
    let next = at.and_then(|i| order.get(i + 1)).map(link);
    let data = json!({"page": name, "title": title, "markdown": markdown_text});
    let extra = json!({"html": rendered.html, "prev": prev, "next": next});
    respond_extra(app, req, 200, "docs.html", &data, extra, Vary::Accept)
}

/// `301 Moved Permanently` to the page's own address.
fn moved(location: &str) -> Response {
    let body = format!("301 Moved Permanently: see {location}\n").into_bytes();
    Response::new(301, "text/plain; charset=utf-8", Body::Bytes(body))
        .header("Location", location.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_is_the_numbered_lines_under_their_part() {
        let readme = "# Docs\n\nIntro [x](x.md).\n\n## The course\n\n\
                      1. [HTTP](protocol.md): the protocol\n\
                      2. [Parser](parse.md)\n\n\
                      - [not numbered](cookies.md)\n\
                      3. [Bad](../src/x.md)\n\
                      ## Implementer notes\n\n\
                      10. [Server](server.md): the I/O layer\n";
        let entries = course(readme);
        let got: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|e| (e.page.as_str(), e.title.as_str(), e.part.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("protocol", "HTTP", "The course"),
                ("parse", "Parser", "The course"),
                ("server", "Server", "Implementer notes"),
            ]
        );
    }
}
