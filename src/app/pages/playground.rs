//! The playground endpoints (SPEC route table): `/status/<code>` answers any status,
//! `/redirect/<n>` a chain of n redirects, `/basic-auth/<user>/<pass>` a Basic-auth
//! challenge. Small pages to try a client on (`curl -i`, `curl -L`, `curl -u`).

use crate::app::App;
use crate::app::exchange::{Body, Request, Response};
use crate::http::Problem;
use crate::http::response::reason;

/// The challenge of a 401 (RFC 7617).
const CHALLENGE: &str = "Basic realm=\"wirepost\"";

/// The status of `/status/<code>`: 200–599 or 2–5xx. A 1xx is an interim response
/// (the final one would still have to follow), so it is refused like garbage.
pub(crate) fn parse_code(s: &str) -> Result<u16, String> {
    let code = number(s, 3)
        .filter(|c| (100..=599).contains(c))
        .ok_or_else(|| format!("the status code must be a number from 100 to 599, not {s:?}"))?;
    if code < 200 {
        return Err(format!(
            "{code} is a 1xx (interim) status: it never ends an exchange, so it cannot be \
             the answer; try a code from 200 to 599"
        ));
    }
    Ok(code as u16)
}

/// Up to `max_digits` ASCII digits and nothing else (no sign, no space).
fn number(s: &str, max_digits: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `any /status/<code>`: that status with `<code> <reason>\n` (the I/O layer drops it
/// for 204 and 304); 3xx with `Location: /`, 401 with the Basic challenge.
pub(crate) fn status(app: &App, req: &Request<'_>, rest: &str) -> Response {
    let code = match parse_code(rest) {
        Ok(c) => c,
        Err(msg) => return app.problem_for(req, Problem::new(400, msg)),
    };
    let body = format!("{code} {}\n", reason(code)).into_bytes();
    let r = Response::new(code, "text/plain; charset=utf-8", Body::Bytes(body));
    match code {
        300..=399 => r.header("Location", "/"),
        401 => r.header("WWW-Authenticate", CHALLENGE),
        _ => r,
    }
}

/// The most redirects `/redirect/<n>` chains (curl's default `--max-redirs` is 50,
/// browsers stop at about 20).
pub(crate) const MAX_REDIRECTS: u32 = 20;

/// `GET /redirect/<n>`: 302 to `/redirect/<n-1>`; `/redirect/0` is the end.
pub(crate) fn redirect(app: &App, req: &Request<'_>, rest: &str) -> Response {
    let Some(n) = number(rest, 2).filter(|&n| n <= MAX_REDIRECTS) else {
        return app.problem_for(
            req,
            Problem::new(
                400,
                format!(
                    "the number of redirects must be a number from 0 to {MAX_REDIRECTS}, \
                     not {rest:?}"
                ),
            ),
        );
    };
    if n == 0 {
        return Response::new(
            200,
            "text/plain; charset=utf-8",
            Body::Bytes(b"200 OK: end of the redirect chain\n".to_vec()),
        );
    }
    let location = format!("/redirect/{}", n - 1);
    let body = format!("302 Found: see {location}\n").into_bytes();
    Response::new(302, "text/plain; charset=utf-8", Body::Bytes(body)).header("Location", location)
}

/// `GET /basic-auth/<user>/<pass>`: 200 with `{"authenticated": true, "user": …}` for
/// a request whose `Authorization: Basic …` holds exactly `user:pass`, else 401 with
/// the challenge (and why).
pub(crate) fn basic_auth(app: &App, req: &Request<'_>, rest: &str) -> Response {
    let (user, pass) = match rest.split_once('/') {
        Some((u, p)) if !u.is_empty() && !u.contains(':') => (u, p),
        _ => {
            return app.problem_for(
                req,
                Problem::new(
                    400,
                    "the address is /basic-auth/<user>/<pass>, with a user name that is \
                     not empty and has no colon",
                ),
            );
        }
    };
    let refuse = |msg: &str| {
        app.problem_for(req, Problem::new(401, msg))
            .header("WWW-Authenticate", CHALLENGE)
    };
    let Some(value) = req.header("authorization") else {
        return refuse(
            "this page needs Basic credentials (Authorization: Basic base64(user:pass))",
        );
    };
    let (given_user, given_pass) = match basic_credentials(value) {
        Ok(c) => c,
        Err(e) => return refuse(&format!("malformed Authorization header: {e}")),
    };
    if given_user != user.as_bytes() || given_pass != pass.as_bytes() {
        return refuse("wrong user name or password");
    }
    let data = serde_json::json!({"authenticated": true, "user": user});
    crate::app::view::json_response(200, &data)
}

/// The user and password of an `Authorization: Basic <base64(user:pass)>` value
/// (RFC 7617): the scheme name in any case, spaces, then strict base64; the user
/// ends at the first colon.
pub(crate) fn basic_credentials(value: &[u8]) -> Result<(Vec<u8>, Vec<u8>), &'static str> {
    let value = value.trim_ascii();
    let scheme_end = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case(b"basic") {
        return Err("the scheme must be Basic");
    }
    let token = value[scheme_end..].trim_ascii_start();
    if token.is_empty() {
        return Err("Basic needs base64(user:pass) after it");
    }
    let decoded = base64_decode(token).map_err(|_| "the credentials are not valid base64")?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or("the decoded credentials have no colon between user and password")?;
    Ok((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

/// Why [`base64_decode`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Base64Error;

/// The value of one base64 character (RFC 4648 §4, the standard alphabet).
fn sextet(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Strict base64 (RFC 4648 §4): groups of four characters, `=` padding only at the
/// end and required, no spaces, and the unused bits of the last group zero (so every
/// byte string has one encoding).
pub(crate) fn base64_decode(s: &[u8]) -> Result<Vec<u8>, Base64Error> {
    if !s.len().is_multiple_of(4) {
        return Err(Base64Error);
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let groups = s.len() / 4;
    for (i, g) in s.chunks_exact(4).enumerate() {
        let pad = match (g[2], g[3]) {
            (b'=', b'=') => 2,
            (_, b'=') => 1,
            _ => 0,
        };
        if pad > 0 && i + 1 != groups {
            return Err(Base64Error);
        }
        let mut n = 0u32;
        for &b in &g[..4 - pad] {
            n = n << 6 | sextet(b).ok_or(Base64Error)?;
        }
        n <<= 6 * pad;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // The bits that pad would have filled must be zero.
        if pad > 0 && n & ((1 << (8 * pad)) - 1) != 0 {
            return Err(Base64Error);
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_table() {
        // RFC 4648 §10 test vectors, and a user:pass.
        for (enc, dec) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("YWRhOnMzY3JldA==", "ada:s3cret"),
        ] {
            assert_eq!(
                base64_decode(enc.as_bytes()),
                Ok(dec.as_bytes().to_vec()),
                "{enc}"
            );
        }
        // Every byte value, both ends of the alphabet.
        assert_eq!(base64_decode(b"+/8="), Ok(vec![0xfb, 0xff]));
        assert_eq!(base64_decode(b"AAAA"), Ok(vec![0, 0, 0]));
        for bad in [
            "Zg", "Zg=", "Zm9", "Z===", "=Zg=", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n",
            "Zm-v", "Zm_v", "Zm9v====", "Zg=a",
        ] {
            assert_eq!(base64_decode(bad.as_bytes()), Err(Base64Error), "{bad:?}");
        }
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let c = |v: &str| basic_credentials(v.as_bytes());
        assert_eq!(
            c("Basic YWRhOnMzY3JldA=="),
            Ok((b"ada".to_vec(), b"s3cret".to_vec()))
        );
        assert_eq!(
            c("BASIC   YWRhOnMzY3JldA=="),
            Ok((b"ada".to_vec(), b"s3cret".to_vec()))
        );
        // "a:b:c": the password may hold colons.
        assert_eq!(c("Basic YTpiOmM="), Ok((b"a".to_vec(), b"b:c".to_vec())));
        // ":" alone: empty user and password.
        assert_eq!(c("Basic Og=="), Ok((vec![], vec![])));
        assert!(c("Basic").is_err());
        assert!(c("Basic ").is_err());
        assert!(c("Basicx YWRh").is_err());
        assert!(c("Bearer YWRhOnMzY3JldA==").is_err());
        assert!(c("Basic YWRh").is_err());
        assert!(c("Basic YWRhOnMzY3JldA").is_err());
    }

    #[test]
    fn codes() {
        for (s, code) in [("200", 200), ("204", 204), ("418", 418), ("599", 599)] {
            assert_eq!(parse_code(s), Ok(code), "{s}");
        }
        for s in ["100", "101", "199"] {
            assert!(parse_code(s).unwrap_err().contains("1xx"), "{s}");
        }
        for s in [
            "", "99", "600", "999", "0200", "+200", " 200", "2e2", "abc", "20x",
        ] {
            assert!(parse_code(s).unwrap_err().contains("100 to 599"), "{s:?}");
        }
    }

    #[test]
    fn redirect_counts() {
        assert_eq!(number("0", 2), Some(0));
        assert_eq!(number("20", 2), Some(20));
        assert_eq!(number("021", 2), None);
        assert_eq!(number("-1", 2), None);
        assert_eq!(number("", 2), None);
    }
}
