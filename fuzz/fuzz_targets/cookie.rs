//! The Cookie header parser and the Set-Cookie builder.
//!
//! Byte 0 picks the mode. Even: parse_cookie_header on the rest, asserting names are
//! non-empty, trimmed, without `;` or `=`, values trimmed without `;`, at most one
//! pair per `;`-piece, and that rendering the pairs back (`n=v; n=v`) parses to the
//! same pairs. Odd: the rest is cut at 0xFF into name, value, path, domain and eight
//! bytes each of Max-Age and Expires; when the builder accepts them, the rendered
//! header must pass a strict RFC 6265 §4.1.1 `set-cookie-string` check (written
//! here), hold only visible ASCII and SP (no CR, LF or other CTL: no header
//! injection), read back through parse_cookie_header as exactly its name and value,
//! and carry an Expires that parse_http_date reads back to the same second.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirepost::http::cookie::{
    MAX_ATTRIBUTE_VALUE_LEN, MAX_NAME_VALUE_LEN, SameSite, SetCookie, parse_cookie_header,
};
use wirepost::http::date::{MAX_UNIX_SECS, parse_http_date};

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// RFC 6265 §4.1.1 `set-cookie-string`, strictly; `Max-Age=0` allowed (see cookie.rs).
fn check_set_cookie(header: &str, name: &str, value: &str, expires: Option<u64>) {
    assert!(
        header.bytes().all(|b| (0x20..=0x7E).contains(&b)),
        "a CTL or non-ASCII byte in {header:?}"
    );
    let mut parts = header.split("; ");
    let pair = parts.next().unwrap();
    let (n, v) = pair.split_once('=').expect("cookie-pair has '='");
    assert!(
        !n.is_empty() && n.bytes().all(is_tchar),
        "cookie-name {n:?}"
    );
    let inner = match v.as_bytes() {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    assert!(
        inner.iter().all(|&b| is_cookie_octet(b)),
        "cookie-value {v:?}"
    );
    assert_eq!((n, v), (name, value));
    assert!(n.len() + v.len() <= MAX_NAME_VALUE_LEN);
    let mut seen = Vec::new();
    let mut none = false;
    for av in parts {
        none |= av == "SameSite=None";
        let key = av.split('=').next().unwrap();
        assert!(!seen.contains(&key), "attribute {key} twice in {header:?}");
        seen.push(key);
        if let Some(n) = av.strip_prefix("Max-Age=") {
            assert!(
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
                "{av:?}"
            );
            assert!(n == "0" || !n.starts_with('0'), "{av:?}");
        } else if let Some(d) = av.strip_prefix("Expires=") {
            let secs = parse_http_date(d.as_bytes()).expect("sane-cookie-date");
            assert_eq!(Some(secs), expires.map(|e| e.min(MAX_UNIX_SECS)), "{d}");
        } else if let Some(p) = av.strip_prefix("Path=") {
            assert!(p.starts_with('/') && !p.contains(';'), "{av:?}");
            assert!(p.len() <= MAX_ATTRIBUTE_VALUE_LEN);
        } else if let Some(d) = av.strip_prefix("Domain=") {
            assert!(!d.is_empty() && d.len() <= 253, "{av:?}");
            for label in d.split('.') {
                let b = label.as_bytes();
                assert!(!b.is_empty() && b.len() <= 63, "{av:?}");
                assert!(b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-'));
                assert!(b[0] != b'-' && b[b.len() - 1] != b'-', "{av:?}");
            }
        } else {
            assert!(
                matches!(
                    av,
                    "Secure" | "HttpOnly" | "SameSite=Lax" | "SameSite=Strict" | "SameSite=None"
                ),
                "unknown attribute {av:?} in {header:?}"
            );
        }
    }
    if none {
        assert!(seen.contains(&"Secure"), "SameSite=None without Secure");
    }
    // The Cookie header a browser would send back reads as this one pair.
    let back = parse_cookie_header(pair.as_bytes());
    assert_eq!(back, vec![(name.to_owned(), value.to_owned())]);
}

fn u64_of(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(a)
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let pairs = parse_cookie_header(data);
        assert!(pairs.len() <= data.iter().filter(|&&b| b == b';').count() + 1);
        for (n, v) in &pairs {
            assert!(!n.is_empty());
            for s in [n, v] {
                assert!(!s.starts_with([' ', '\t']) && !s.ends_with([' ', '\t']));
                assert!(!s.contains(';'));
            }
            assert!(!n.contains('='));
        }
        let rendered: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let again = parse_cookie_header(rendered.join("; ").as_bytes());
        assert_eq!(again, pairs, "rendered pairs read back differently");
        return;
    }
    let mut fields = data.split(|&b| b == 0xFF);
    let mut next = || fields.next().unwrap_or(&[]);
    let name = String::from_utf8_lossy(next()).into_owned();
    let value = String::from_utf8_lossy(next()).into_owned();
    let path = next().to_vec();
    let domain = next().to_vec();
    let max_age = u64_of(next()) as i64;
    let expires = u64_of(next());
    let Ok(mut c) = SetCookie::new(&name, &value) else {
        return;
    };
    let mut exp = None;
    if mode & 2 != 0 {
        c = c.max_age(max_age);
    }
    if mode & 4 != 0 {
        c = c.expires(expires);
        exp = Some(expires);
    }
    if !path.is_empty() {
        match c.clone().path(&String::from_utf8_lossy(&path)) {
            Ok(p) => c = p,
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    if !domain.is_empty()
        && let Ok(d) = c.clone().domain(&String::from_utf8_lossy(&domain))
    {
        c = d;
    }
    if mode & 8 != 0 {
        c = c.secure();
    }
    if mode & 16 != 0 {
        c = c.http_only();
    }
    match (mode >> 5) & 3 {
        1 => c = c.same_site(SameSite::Lax),
        2 => c = c.same_site(SameSite::Strict),
        3 => c = c.same_site(SameSite::None),
        _ => {}
    }
    let mut out = Vec::new();
    c.render(&mut out);
    let header = c.to_string();
    assert_eq!(out, header.as_bytes(), "render and Display differ");
    check_set_cookie(&header, &name, &value, exp);
    if mode & 0x80 != 0
        && let Ok(r) = SetCookie::removal(&name)
    {
        check_set_cookie(&r.to_string(), &name, "", Some(0));
    }
});
