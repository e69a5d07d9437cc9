//! One module per page.
pub mod cart;
pub mod cookie_lab;
pub mod echo;
pub mod history;
pub mod index;
pub mod plain;
pub mod products;
pub mod session_lab;
pub mod static_files;
pub mod upload;
pub mod uploads;
pub mod user;
