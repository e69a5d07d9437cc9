//! Storage: durable state under `data/`.
//!
//! - [`db`]: the table store behind users and sessions (memory first, a log on disk,
//!   group commit, snapshots); [`db::Store`] is its facade.
//! - [`uploads`]: stored upload files, written as they arrive and committed durably.
//!
//! `store` knows nothing of HTTP or I/O loops (`app → store`).
//!
//! Layering of the table store: each module imports only those below it, so there is
//! no loop (`a → b` means `a` uses `b`):
//!
//! ```text
//! db         (Store: the public facade; re-exports the names callers use)
//!  ├→ recovery   (open: snapshot + log replay)     → committer, state, log, error
//!  ├→ committer  (the thread that writes the log)  → state, log, error
//!  ├→ state      (tables in memory, tickets, undo) → log, error, options
//!  ├→ log        (line format, file names, scan)   → error
//!  ├→ error      (StoreError, ErrorCopy)           → options
//!  └→ options    (Options, limits)                 → nothing
//! ```

mod committer;
pub(crate) mod db;
mod error;
mod log;
mod options;
mod recovery;
mod state;
pub(crate) mod uploads;

pub(crate) use log::shape;

#[cfg(test)]
mod tests {
    /// The modules of the table store, each with the store modules its top-level `use`
    /// lines may name: the layering in the module doc above, checked.
    const LAYERS: &[(&str, &str, &[&str])] = &[
        ("options", include_str!("options.rs"), &[]),
        ("error", include_str!("error.rs"), &["options"]),
        ("log", include_str!("log.rs"), &["error"]),
        (
            "state",
            include_str!("state.rs"),
            &["log", "error", "options"],
        ),
        (
            "committer",
            include_str!("committer.rs"),
            &["state", "log", "error"],
        ),
        (
            "recovery",
            include_str!("recovery.rs"),
            &["committer", "state", "log", "error"],
        ),
        (
            "db",
            include_str!("db.rs"),
            &["recovery", "committer", "state", "log", "error", "options"],
        ),
    ];

    #[test]
    fn store_modules_import_only_the_layers_below_them() {
        for (name, text, allowed) in LAYERS {
            // Top-level `use` lines only (a test module's `use super::*` is indented).
            for line in text.lines() {
                let Some(rest) = line
                    .strip_prefix("use super::")
                    .or_else(|| line.strip_prefix("pub use super::"))
                    .or_else(|| line.strip_prefix("use crate::store::"))
                else {
                    continue;
                };
                let used: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    allowed.contains(&used.as_str()),
                    "store/{name}.rs imports store::{used}, which is not below it: {line}"
                );
            }
        }
    }
}
