//! IMF-fixdate (RFC 9110 §5.6.7) for the `Date` header: `Sun, 06 Nov 1994 08:49:37 GMT`.
//!
//! STUB: interface fixed, implementation to be written.

/// Length of an IMF-fixdate.
pub const IMF_FIXDATE_LEN: usize = 29;

/// Format seconds since the Unix epoch as an IMF-fixdate.
pub fn imf_fixdate(unix_secs: u64) -> [u8; IMF_FIXDATE_LEN] {
    let _ = unix_secs;
    todo!()
}
