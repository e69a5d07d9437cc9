//! Content negotiation between HTML and JSON (RFC 9110 §12.5.1 `Accept`).
//!
//! Every page answers HTML by default and JSON when the client prefers it. The rule:
//! JSON when `application/json` gets a higher quality than `text/html` from the
//! `Accept` field (each type's quality is that of its most specific matching range:
//! exact type, then `type/*`, then `*/*`), or the same quality from a more specific
//! range (`application/json, */*`, as JavaScript clients send). Otherwise HTML: for
//! `*/*`, no `Accept` at all, or a browser's `text/html,…,*/*;q=0.8`.

/// The representation a page should answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/html`, the default.
    Html,
    /// `application/json`.
    Json,
}

/// The quality `accept` gives to `ty/sub` (0.0 if unacceptable), with how specific
/// the range that gave it was (2 exact, 1 `type/*`, 0 `*/*`).
fn quality(accept: &[u8], ty: &str, sub: &str) -> (f32, u8) {
    // (specificity, q): the most specific matching range decides.
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(|&b| b == b',') {
        let mut parts = range.split(|&b| b == b';');
        let media = parts.next().unwrap_or(b"").trim_ascii();
        let Some(slash) = media.iter().position(|&b| b == b'/') else {
            continue;
        };
        let (rt, rs) = (&media[..slash], &media[slash + 1..]);
        let specificity = if rt == b"*" && rs == b"*" {
            0
        } else if rt.eq_ignore_ascii_case(ty.as_bytes()) && rs == b"*" {
            1
        } else if rt.eq_ignore_ascii_case(ty.as_bytes()) && rs.eq_ignore_ascii_case(sub.as_bytes())
        {
            2
        } else {
            continue;
        };
        let mut q = 1.0f32;
        for p in parts {
            let p = p.trim_ascii();
            if p.len() >= 2 && p[0].eq_ignore_ascii_case(&b'q') && p[1] == b'=' {
                q = std::str::from_utf8(&p[2..])
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .filter(|q: &f32| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or((0.0, 0), |(s, q)| (q, s))
}

/// How an error answers (SPEC "Protocol"): HTML when `Accept` prefers `text/html`,
/// JSON when it prefers `application/json`, plain text otherwise (nc, curl, `*/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// `text/html`: `Accept` names `text/html` acceptable (a browser).
    Html,
    /// `application/json`: `Accept` prefers it, as [`format()`] decides.
    Json,
    /// `text/plain`: anything else, including no `Accept` and `*/*`.
    Text,
}

/// [`ErrorFormat`] from the request's `Accept` field: JSON as [`format()`] decides it;
/// HTML when `text/html` itself is named acceptable (a browser); else text.
pub fn error_format(accept: Option<&[u8]>) -> ErrorFormat {
    let Some(accept) = accept else {
        return ErrorFormat::Text;
    };
    if format(Some(accept)) == Format::Json {
        return ErrorFormat::Json;
    }
    let (hq, hs) = quality(accept, "text", "html");
    let (tq, ts) = quality(accept, "text", "plain");
    if hq > 0.0 && hs == 2 && (hq > tq || ts < 2) {
        ErrorFormat::Html
    } else {
        ErrorFormat::Text
    }
}

/// HTML or JSON, from the request's `Accept` field.
pub fn format(accept: Option<&[u8]>) -> Format {
    let Some(accept) = accept else {
        return Format::Html;
    };
    let (jq, js) = quality(accept, "application", "json");
    let (hq, hs) = quality(accept, "text", "html");
    if jq > 0.0 && (jq > hq || (jq == hq && js > hs)) {
        Format::Json
    } else {
        Format::Html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_table() {
        let cases: &[(Option<&str>, ErrorFormat)] = &[
            (None, ErrorFormat::Text),
            (Some("*/*"), ErrorFormat::Text),
            (Some("text/plain"), ErrorFormat::Text),
            (Some("text/html"), ErrorFormat::Html),
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ErrorFormat::Html,
            ),
            (Some("application/json"), ErrorFormat::Json),
            (Some("application/json, text/plain, */*"), ErrorFormat::Json),
            (Some("text/plain, text/html;q=0.5"), ErrorFormat::Text),
            (Some("text/html;q=0"), ErrorFormat::Text),
        ];
        for (accept, want) in cases {
            assert_eq!(
                error_format(accept.map(str::as_bytes)),
                *want,
                "Accept: {accept:?}"
            );
        }
    }

    #[test]
    fn table() {
        let cases: &[(Option<&str>, Format)] = &[
            (None, Format::Html),
            (Some("*/*"), Format::Html),
            (Some("application/json"), Format::Json),
            (Some("application/json, text/plain, */*"), Format::Json),
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                Format::Html,
            ),
            (Some("text/html;q=0.5, application/json"), Format::Json),
            (
                Some("application/json;q=0.4, text/html;q=0.5"),
                Format::Html,
            ),
            (Some("application/*"), Format::Json),
            (Some("text/*;q=0.1, application/json;q=0.2"), Format::Json),
            (Some("APPLICATION/JSON"), Format::Json),
            (Some("application/json;q=0"), Format::Html),
            (Some("application/json;q=abc"), Format::Html),
            (Some("garbage"), Format::Html),
            (Some(""), Format::Html),
        ];
        for (accept, want) in cases {
            assert_eq!(
                format(accept.map(str::as_bytes)),
                *want,
                "Accept: {accept:?}"
            );
        }
    }
}
