//! One module per page.
pub mod echo;
pub mod index;
pub mod plain;
pub mod session_lab;
pub mod static_files;
pub mod upload;
pub mod uploads;
pub mod user;
