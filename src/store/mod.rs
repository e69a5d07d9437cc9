//! Storage: durable state under `data/`.
//!
//! - [`uploads`]: stored upload files, written as they arrive and committed durably.
//!
//! The user and session tables arrive with the sessions issue. `store` knows nothing
//! of HTTP or I/O loops (`app → store`).

mod committer;
pub mod db;
mod log;
pub mod uploads;

pub use log::shape;
