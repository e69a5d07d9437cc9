//! I/O layer. STUB.
