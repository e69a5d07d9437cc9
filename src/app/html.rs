//! HTML escaping for the pages that build markup in code (templates arrive with the
//! pages issue and escape by default through the same function).

/// Escape text for an HTML element body or a double-quoted attribute value.
#[cfg(test)]
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

/// [`escape`], appending to `out`: runs of safe bytes go in with one `push_str`.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut start = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // `b` is ASCII, so both slices end on character boundaries.
        out.push_str(&text[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// `n` in decimal digits, appended to `out` (what `write!(out, "{n}")` writes, without
/// the formatting machinery: pages write many numbers).
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits() {
        for n in [0, 1, 9, 10, 99, 100, 12345, u64::MAX - 1, u64::MAX] {
            let mut out = String::from("x");
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

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
        for c in 0..=255u8 {
            let s = char::from(c).to_string();
            let want = match c {
                b'&' => "&amp;".to_string(),
                b'<' => "&lt;".into(),
                b'>' => "&gt;".into(),
                b'"' => "&quot;".into(),
                b'\'' => "&#39;".into(),
                _ => s.clone(),
            };
            assert_eq!(escape(&s), want);
        }
    }
}
