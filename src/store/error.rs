//! What a store call can fail with, and a copy of an `io::Error` for many waiters.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::options::MAX_DEPTH;

#[derive(Debug)]
pub(crate) enum StoreError {
    /// `insert_unique` found the key already there.
    Exists,
    /// Reading or writing the files failed (disk full is `ENOSPC`: `raw_os_error() == Some(libc::ENOSPC)`).
    Io(io::Error),
    /// A file is damaged where a crash can't explain it; the store refuses to open.
    /// `line` is 1-based; 0 means the file as a whole.
    Corrupt {
        file: PathBuf,
        line: u64,
        why: String,
    },
    /// A recent write failed; writes are refused for a moment (reads work).
    Failed,
    /// The value nests deeper than [`MAX_DEPTH`]; nothing was written.
    TooDeep { depth: usize },
    /// The store was shut down.
    Closed,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Exists => f.write_str("the key already exists"),
            StoreError::Io(e) => write!(f, "storage I/O failed: {e}"),
            StoreError::Corrupt { file, line, why } => write!(
                f,
                "{}: line {line}: {why}; the store refuses to start rather than lose data \
                 (restore the file from a backup, or move it aside to give up its records)",
                file.display()
            ),
            StoreError::Failed => f.write_str(
                "the store is refusing writes after a failed write (disk full?); retrying soon",
            ),
            StoreError::Closed => f.write_str("the store is shut down"),
            StoreError::TooDeep { depth } => write!(
                f,
                "the value nests {depth} levels deep; the store takes at most {MAX_DEPTH}"
            ),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> StoreError {
        StoreError::Io(e)
    }
}

/// An `io::Error` kept to be handed to many waiters (`io::Error` is not `Clone`).
#[derive(Debug, Clone)]
pub(super) struct ErrorCopy {
    raw: Option<i32>,
    kind: io::ErrorKind,
    text: String,
}

impl ErrorCopy {
    pub(super) fn of(e: &io::Error) -> ErrorCopy {
        ErrorCopy {
            raw: e.raw_os_error(),
            kind: e.kind(),
            text: e.to_string(),
        }
    }

    pub(super) fn to_io(&self) -> io::Error {
        match self.raw {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.text.clone()),
        }
    }
}
