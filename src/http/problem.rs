//! One error answer for the whole server: a [`Problem`] is a status, a sentence that
//! says what was wrong, and (when known) the bytes that were wrong. The app renders it
//! as HTML, JSON or plain text by the request's `Accept` (SPEC "Protocol");
//! the renderers here are the two that need no templates.

use crate::http::ParseError;

/// An error to answer: `status`, a `message` a person understands (what the client
/// sent or missed, never an internal name), and the `offending` bytes if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The response status code.
    pub status: u16,
    /// What was wrong, in a sentence for a person.
    pub message: String,
    /// The bytes that were wrong (a path segment, a header value), if known.
    pub offending: Option<Vec<u8>>,
}

impl Problem {
    /// A problem with `status` and `message`, no offending bytes.
    pub fn new(status: u16, message: impl Into<String>) -> Problem {
        Problem {
            status,
            message: message.into(),
            offending: None,
        }
    }

    /// The same, showing the bytes that were wrong.
    pub fn with_offending(mut self, bytes: impl Into<Vec<u8>>) -> Problem {
        self.offending = Some(bytes.into());
        self
    }

    /// 404 for a path no route takes.
    pub fn not_found(path: &str) -> Problem {
        Problem::new(404, format!("no page at {path}"))
    }

    /// 405: the route exists but not for this method (the caller adds `Allow`).
    pub fn method_not_allowed() -> Problem {
        Problem::new(405, "method not allowed here; see the Allow header")
    }

    /// The reason phrase of the status.
    pub fn reason(&self) -> &'static str {
        crate::http::response::reason(self.status)
    }

    /// `404 Not Found: no page at /x\n`: the plain-text body (nc, curl).
    pub fn to_text(&self) -> String {
        format!("{} {}: {}\n", self.status, self.reason(), self.message)
    }

    /// `{"status": 404, "error": "no page at /x"}` with a final newline.
    pub fn to_json(&self) -> String {
        let v = serde_json::json!({"status": self.status, "error": self.message});
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }
}

impl From<&ParseError> for Problem {
    /// The parse error's sentence (`line 3: header name contains a space`). The parser
    /// keeps the position of the fault, not its bytes, so `offending` stays empty.
    fn from(e: &ParseError) -> Problem {
        Problem::new(e.status(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ErrorKind;

    #[test]
    fn text_is_status_reason_message() {
        assert_eq!(
            Problem::not_found("/x").to_text(),
            "404 Not Found: no page at /x\n"
        );
    }

    #[test]
    fn json_shape_is_exact() {
        let v: serde_json::Value =
            serde_json::from_str(&Problem::new(400, "bad \"x\"").to_json()).unwrap();
        assert_eq!(v, serde_json::json!({"status": 400, "error": "bad \"x\""}));
        assert_eq!(v.as_object().unwrap().len(), 2);
    }

    #[test]
    fn from_parse_error_keeps_its_sentence() {
        let e = ParseError::new(ErrorKind::SpaceBeforeColon, 3, 40);
        let p = Problem::from(&e);
        assert_eq!(p.status, 400);
        assert_eq!(p.message, e.to_string());
        assert_eq!(
            p.to_text(),
            "400 Bad Request: line 3: header name contains a space\n"
        );
    }
}
