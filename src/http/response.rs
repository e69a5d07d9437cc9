//! The response head encoder. STUB, being written.
