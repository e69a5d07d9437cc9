//! Application. STUB.
