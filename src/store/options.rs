//! The store's tunables and limits. Imports nothing of the store.

use std::time::Duration;

/// Compact when the log holds this many times the bytes of the live records: the log
/// may then be replaced by a snapshot a quarter of its size. Smaller ratios compact
/// more often for little gain; larger ones make restarts replay more.
pub(crate) const COMPACT_RATIO: u64 = 4;
/// ... and only once the log is at least this big (1 MiB): replaying a log this size
/// takes milliseconds, so compacting a tiny store would be all cost.
pub(crate) const COMPACT_MIN_LOG_BYTES: u64 = 1 << 20;
/// After a failed write, writes are refused this long before one is tried again: long
/// enough not to hammer a full disk (and fill the error log) once per request, short
/// enough that service resumes within a second of space coming back.
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Deepest value the store takes (`[[1]]` is 2 deep). A log line wraps the value in one
/// more object, and `serde_json` reads back at most 128 levels: a value it could write
/// but not read would be acknowledged, then make every restart fail (issue 11). 100
/// leaves room for callers that wrap values themselves (sessions add two levels).
pub(crate) const MAX_DEPTH: usize = 100;

/// Tunables; [`Options::default`] gives the constants above.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub compact_ratio: u64,
    pub compact_min_log_bytes: u64,
    pub retry_after_failure: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            compact_ratio: COMPACT_RATIO,
            compact_min_log_bytes: COMPACT_MIN_LOG_BYTES,
            retry_after_failure: RETRY_AFTER_FAILURE,
        }
    }
}
