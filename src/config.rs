//! Config. STUB.
