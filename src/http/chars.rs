//! Byte classes from the ABNF of RFC 9110 / RFC 9112, as lookup tables.
//!
//! STUB: to be written with the head parser.
