//! Storage: the user and session tables, durable and recoverable.
//!
//! Empty for now: the session and user tables arrive with the sessions issue. The
//! module exists so the layering (`app → store`, and `store` knowing nothing of HTTP
//! or I/O) is visible from the start.
