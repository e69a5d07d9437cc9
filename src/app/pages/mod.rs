//! One module per page.
pub(crate) mod cart;
pub(crate) mod cookie_lab;
pub(crate) mod docs;
pub(crate) mod echo;
pub(crate) mod history;
pub(crate) mod index;
pub(crate) mod parse;
pub(crate) mod plain;
pub(crate) mod playground;
pub(crate) mod products;
pub(crate) mod session_lab;
pub(crate) mod static_files;
pub(crate) mod timed;
pub(crate) mod upload;
pub(crate) mod uploads;
pub(crate) mod user;
pub(crate) mod wire;
