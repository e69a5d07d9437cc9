//! wirepost: an HTTP/1.1 server written from raw sockets.
//!
//! The crate is split the way the bytes flow (dependencies point one way:
//! `server → app → http`, `app → store`):
//!
//! - [`http`]: the sans-I/O protocol core. Parsers take bytes and return events or
//!   typed errors; encoders append bytes to a buffer. No sockets, files, threads or
//!   clocks in there: time comes in as an argument.
//! - [`server`]: the I/O layer. One `mio` event loop per worker thread, connection
//!   state machines, buffers and timers. It owns no HTTP rules and no page logic.
//! - [`app`]: routing and pages, plain functions from a request to a response.
//! - [`store`]: durable tables (users, sessions) and stored uploads.
//! - [`sys`]: the few system calls `std` lacks, the crate's only `unsafe` code.
#![deny(unsafe_code)] // allowed in `sys` alone
#![warn(unreachable_pub)]

pub(crate) mod app;
pub mod config;
pub mod http;
pub mod server;
pub(crate) mod store;
pub mod sys;
#[cfg(test)]
mod testing;
