//! HTML escaping for the pages that build markup in code (templates arrive with the
//! pages issue and escape by default through the same function).

/// Escape text for an HTML element body or a double-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

/// [`escape`], appending to `out`: runs of safe bytes go in with one `push_str`.
pub fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // `i` is an ASCII byte, so both slices end on character boundaries.
        out.push_str(&text[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// A whole page around `body` (trusted markup), with the shared stylesheet.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · wirepost</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n\
<body>\n<p><a href=\"/\">wirepost</a></p>\n{}\n</body>\n</html>\n",
        escape(title),
        body
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape(""), "");
        assert_eq!(escape("é<ü>€'"), "é&lt;ü&gt;€&#39;");
        assert_eq!(escape("&&"), "&amp;&amp;");
        let mut out = String::from("x");
        escape_into(&mut out, "a\"b");
        assert_eq!(out, "xa&quot;b");
        assert!(page("<t>", "<p>ok</p>").contains("<title>&lt;t&gt; · wirepost</title>"));
    }
}
