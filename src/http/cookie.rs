//! The `Cookie` request header (parsed leniently) and the `Set-Cookie` response header
//! (rendered strictly from a typed builder), RFC 6265 §4.1–§4.2 and §5.4.
//!
//! STUB: interface fixed, implementation to be written.

/// `SameSite` attribute values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

/// Why a Set-Cookie could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieError {
    /// The name is empty or not an RFC 9110 token.
    InvalidName,
    /// The value holds a byte outside cookie-octets (and is not a quoted cookie-octets string).
    InvalidValue,
    /// The path holds a control character or `;`.
    InvalidPath,
    /// The domain is not a valid domain name.
    InvalidDomain,
}

/// Cookies sent by the client, in order; first of a repeated name wins in `get`.
/// Parse `name=value; name2=value2`.
pub fn parse_cookie_header(value: &[u8]) -> Vec<(String, String)> {
    let _ = value;
    todo!()
}

/// A Set-Cookie header value under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {}

impl SetCookie {
    pub fn new(name: &str, value: &str) -> Result<SetCookie, CookieError> {
        let _ = (name, value);
        todo!()
    }
}
