//! The durable table store behind users and sessions: records in memory, every change
//! appended to a log on disk by one committer thread that group-commits.
//!
//! Theory of operation.
//!
//! **Memory first.** Tables are `HashMap`s of JSON values keyed by strings, behind one
//! mutex. A write (`put`, `insert_unique`, `delete`, `retain`) encodes its log line,
//! then, under the mutex, checks (uniqueness for `insert_unique`), changes the map,
//! appends the line to the *pending* buffer and takes the next sequence number: its
//! [`Ticket`]. Because all three happen under one lock, the order of the log is the
//! order in which memory changed, and a reader sees a write as soon as the call returns
//! (read-your-writes). A write is *stored* only once its ticket is reported durable.
//! Checks see memory too: `insert_unique` answers `Exists` for a key whose write is
//! still on its way to the disk.
//!
//! **Group commit.** One committer thread (`committer.rs`) loops: take the whole
//! pending buffer, write it with one `write`, `fsync` it once (`sync_data`), then mark
//! every ticket in it durable, wake [`Store::wait_durable`] callers and run the
//! [`Store::on_durable`] callbacks in ticket order. No timer is needed to batch: while
//! one fsync is in flight, every writer that arrives appends to the pending buffer, so
//! the next round takes all of them. One writer gets one fsync per write; 64 writers
//! share each fsync (see `concurrent_writers_share_fsyncs`). A callback for ticket `t`
//! runs only after every write up to `t` is on disk, because rounds are written in
//! order by one thread.
//!
//! **Compaction** keeps the log from growing forever. When the log is past
//! [`COMPACT_RATIO`]× the live data and at least [`COMPACT_MIN_LOG_BYTES`] (or on
//! [`Store::compact`]), the committer, between two rounds, *rotates*: it clones the
//! tables (the values are `Arc`s, so this copies pointers, not JSON: 5–10 ms for
//! 100 000 sessions in a release build on the dev machine, the only time writers wait
//! for compaction), creates the next log `log-N+1`, fsyncs the directory, and from
//! then on appends there. A short-lived
//! thread writes the clone as `snapshot-N+1.jsonl.tmp`, fsyncs it, renames it to
//! `snapshot-N+1.jsonl`, fsyncs the directory, and only then deletes the older logs
//! and snapshots. Writers never wait for a snapshot: their records keep going to the
//! new log and their fsyncs keep happening.
//!
//! **Recovery** ([`Store::open`]): load the newest snapshot `N` (generation 0 has none
//! and starts empty), then replay `log-N`, `log-N+1`, … in order; they must follow each
//! other without a gap. A crash at any step of compaction leaves a state this reads
//! correctly: before the rename, the old snapshot and both logs; after it, the new
//! snapshot (with or without its log). Leftover `.tmp` snapshots and files older than
//! the newest snapshot are deleted. An incomplete last line of the last log (no `\n`)
//! is a torn write — never reported durable — and is dropped with a warning (the file
//! is cut back so later appends follow good lines). Anything else is corruption: a
//! complete line whose checksum fails (even the last), a torn line in an earlier log or
//! a snapshot, or records out of sequence (each record carries a number, `log.rs`, so a
//! line deleted or written twice shows). `open` then fails with
//! [`StoreError::Corrupt`] naming the file and line, and the server refuses to start
//! rather than silently lose data.
//!
//! **What is written can be read back.** `serde_json` reads at most 128 levels of
//! nesting, but writes any depth; a value nested deeper than [`MAX_DEPTH`] is refused
//! with [`StoreError::TooDeep`] before anything changes, so the store never
//! acknowledges a record its own recovery would call corrupt. Numbers are written and
//! read with `serde_json`'s `float_roundtrip`, so a float reads back bit for bit.
//!
//! **When a write fails** (disk full, I/O error): the committer cuts the log back to
//! its last fsynced length (so a half-written batch leaves nothing), and *rolls back
//! in memory* every write that is not durable — the failed batch and any that arrived
//! since — newest first, so memory is again exactly what is on disk. All their tickets
//! resolve to `Err(Io)` (with the OS error: `ENOSPC` stays `ENOSPC`). A reported error
//! therefore means "not stored", never "stored after all". For
//! [`RETRY_AFTER_FAILURE`] the store then refuses writes with [`StoreError::Failed`]
//! (reads go on); the first write after that is tried for real, and if it becomes
//! durable the store is healthy again, with no restart. The alternative — keep the
//! failed batch in memory and retry it — would leave clients told "error" whose write
//! later appears, and would let memory drift from disk for as long as the disk stays
//! full. If the log can't even be cut back, the store refuses writes until restart
//! (recovery then drops the torn tail). Writers that did not wait for their ticket see
//! their write vanish on rollback: durability is only promised through tickets.
//!
//! A `LOCK` file, locked with `flock` semantics ([`File::try_lock`]) for as long as the
//! store is open, keeps two processes from appending to the same log.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::committer::{self, LogFile};
use super::log::{
    FileKind, LOCK_FILE, Op, Record, Sequence, TEMP_SUFFIX, classify, encode_del, encode_put,
    log_name, scan, shape, snapshot_name,
};

/// Compact when the log holds this many times the bytes of the live records: the log
/// may then be replaced by a snapshot a quarter of its size. Smaller ratios compact
/// more often for little gain; larger ones make restarts replay more.
pub const COMPACT_RATIO: u64 = 4;
/// ... and only once the log is at least this big (1 MiB): replaying a log this size
/// takes milliseconds, so compacting a tiny store would be all cost.
pub const COMPACT_MIN_LOG_BYTES: u64 = 1 << 20;
/// After a failed write, writes are refused this long before one is tried again: long
/// enough not to hammer a full disk (and fill the error log) once per request, short
/// enough that service resumes within a second of space coming back.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Deepest value the store takes (`[[1]]` is 2 deep). A log line wraps the value in one
/// more object, and `serde_json` reads back at most 128 levels: a value it could write
/// but not read would be acknowledged, then make every restart fail (issue 11). 100
/// leaves room for callers that wrap values themselves (sessions add two levels).
pub const MAX_DEPTH: usize = 100;

/// Tunables; [`Options::default`] gives the constants above.
#[derive(Debug, Clone)]
pub struct Options {
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

#[derive(Debug)]
pub enum StoreError {
    /// `insert_unique` found the key already there.
    Exists,
    /// Reading or writing the files failed (disk full is `ENOSPC`, raw OS error 28).
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

/// The sequence number of a write. Ticket `t` is durable once every write numbered
/// `≤ t` is on disk. `Ticket(0)` stands for "nothing to wait for".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(u64);

impl Ticket {
    pub fn seq(self) -> u64 {
        self.0
    }
}

/// A callback for [`Store::on_durable`].
pub type Durable = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Counters for benchmarks and the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Write calls that changed something (tickets handed out).
    pub writes: u64,
    /// Lines appended to logs (a `retain` may append many for one ticket).
    pub records: u64,
    /// Batches written: one `write` and one fsync each.
    pub commits: u64,
    /// Every fsync: batches, snapshots, the directory.
    pub fsyncs: u64,
    /// Most records one commit carried.
    pub largest_batch: u64,
    /// Size of the current log.
    pub log_bytes: u64,
    pub live_records: u64,
    /// Size the live records take as log lines (what a snapshot would take).
    pub live_bytes: u64,
    /// Generation of the current log.
    pub generation: u64,
    /// Snapshots completed since open.
    pub compactions: u64,
    /// Batches that failed to be written or fsynced.
    pub failures: u64,
    /// Writes undone in memory because of those failures.
    pub rolled_back: u64,
}

/// One record in memory: the value and the length of its `put` line.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub value: Arc<Value>,
    pub size: u64,
}

pub(super) type Table = HashMap<Arc<str>, Entry>;
pub(super) type Tables = HashMap<Arc<str>, Table>;

/// How to take back one change to memory: the record as it was before.
pub(super) struct Undo {
    table: Arc<str>,
    key: Arc<str>,
    old: Option<Entry>,
}

/// An `io::Error` kept to be handed to many waiters (`io::Error` is not `Clone`).
#[derive(Debug, Clone)]
pub(super) struct ErrorCopy {
    raw: Option<i32>,
    kind: io::ErrorKind,
    text: String,
}

impl ErrorCopy {
    pub fn of(e: &io::Error) -> ErrorCopy {
        ErrorCopy {
            raw: e.raw_os_error(),
            kind: e.kind(),
            text: e.to_string(),
        }
    }

    pub fn to_io(&self) -> io::Error {
        match self.raw {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.text.clone()),
        }
    }
}

/// Tickets `first..=last` were rolled back because of `error`.
#[derive(Debug)]
struct FailedRange {
    first: u64,
    last: u64,
    error: ErrorCopy,
}

#[derive(Debug)]
pub(super) enum Health {
    Ok,
    /// Writes refused until `retry_at`, then tried again.
    Failed {
        retry_at: Instant,
    },
    /// Writes refused until restart.
    Broken,
}

#[derive(Debug, Default)]
pub(super) struct Compaction {
    /// [`Store::compact`] asked for one.
    pub requested: bool,
    /// A snapshot is being written.
    pub running: bool,
    /// Newest generation a compaction attempt finished for (done or failed).
    pub finished: u64,
    pub last_error: Option<ErrorCopy>,
    /// After a failure, don't try again automatically before the log is this big.
    pub floor: u64,
}

/// Everything behind the store's mutex.
pub(super) struct State {
    pub tables: Tables,
    pub live_bytes: u64,
    /// Lines not yet taken by the committer, and how to undo them.
    pub pending: Vec<u8>,
    pub pending_undo: Vec<Undo>,
    /// Highest ticket handed out.
    pub last_seq: u64,
    /// Every ticket `≤ settled_seq` is durable or failed.
    pub settled_seq: u64,
    failed: Vec<FailedRange>,
    pub callbacks: BTreeMap<u64, Vec<Durable>>,
    pub health: Health,
    /// The committer is waiting for work (so a writer must wake it).
    pub committer_idle: bool,
    pub closing: bool,
    /// The committer has stopped.
    pub closed: bool,
    pub compaction: Compaction,
    /// Generation of the log being appended to, and of the newest snapshot.
    pub generation: u64,
    pub snapshot_generation: u64,
    pub stats: StoreStats,
    /// While recovering: the number the next log record must carry.
    replay_seq: Sequence,
}

impl State {
    fn new() -> State {
        State {
            tables: HashMap::new(),
            live_bytes: 0,
            pending: Vec::new(),
            pending_undo: Vec::new(),
            last_seq: 0,
            settled_seq: 0,
            failed: Vec::new(),
            callbacks: BTreeMap::new(),
            health: Health::Ok,
            committer_idle: false,
            closing: false,
            closed: false,
            compaction: Compaction::default(),
            generation: 0,
            snapshot_generation: 0,
            stats: StoreStats::default(),
            replay_seq: Sequence::starting_at(1),
        }
    }

    /// May a write go ahead?
    fn admit(&mut self) -> Result<(), StoreError> {
        if self.closing {
            return Err(StoreError::Closed);
        }
        match self.health {
            Health::Ok => Ok(()),
            Health::Failed { retry_at } if Instant::now() >= retry_at => {
                ::log::info!("store: trying writes again after the failure");
                self.health = Health::Ok;
                Ok(())
            }
            Health::Failed { .. } | Health::Broken => Err(StoreError::Failed),
        }
    }

    /// Put (`Some`) or remove (`None`) a record; returns how to undo it, or `None` if
    /// nothing changed (removing a missing key).
    fn set(&mut self, table: &str, key: &str, new: Option<Entry>) -> Option<Undo> {
        let (table_name, map) = match self.tables.get_key_value(table) {
            Some((name, _)) => {
                let name = name.clone();
                let map = self
                    .tables
                    .get_mut(table)
                    .expect("the table was just found");
                (name, map)
            }
            None if new.is_none() => return None,
            None => {
                let name: Arc<str> = Arc::from(table);
                (name.clone(), self.tables.entry(name).or_default())
            }
        };
        let key: Arc<str> = match map.get_key_value(key) {
            Some((k, _)) => k.clone(),
            None if new.is_none() => return None,
            None => Arc::from(key),
        };
        let added = new.as_ref().map_or(0, |e| e.size);
        let old = match new {
            Some(entry) => map.insert(key.clone(), entry),
            None => map.remove(&key),
        };
        self.live_bytes = self.live_bytes + added - old.as_ref().map_or(0, |e| e.size);
        Some(Undo {
            table: table_name,
            key,
            old,
        })
    }

    /// Take a change back.
    pub(super) fn undo(&mut self, u: Undo) {
        let Some(map) = self.tables.get_mut(&u.table) else {
            return;
        };
        let added = u.old.as_ref().map_or(0, |e| e.size);
        let removed = match u.old {
            Some(entry) => map.insert(u.key, entry),
            None => map.remove(&u.key),
        };
        self.live_bytes = self.live_bytes + added - removed.as_ref().map_or(0, |e| e.size);
    }

    /// Queue one encoded line for the committer.
    fn log(&mut self, line: &[u8], undo: Undo) {
        self.pending.extend_from_slice(line);
        self.pending_undo.push(undo);
        self.stats.records += 1;
    }

    /// The ticket of the write just queued.
    fn issue(&mut self) -> Ticket {
        self.last_seq += 1;
        self.stats.writes += 1;
        Ticket(self.last_seq)
    }

    /// A ticket covering the state as it is now, for a write that changed nothing.
    fn observed(&self) -> Ticket {
        if self.last_seq > self.settled_seq {
            Ticket(self.last_seq)
        } else {
            Ticket(0)
        }
    }

    /// How a settled ticket ended.
    pub(super) fn outcome(&self, seq: u64) -> Result<(), StoreError> {
        match self
            .failed
            .iter()
            .rev()
            .find(|r| r.first <= seq && seq <= r.last)
        {
            Some(r) => Err(StoreError::Io(r.error.to_io())),
            None => Ok(()),
        }
    }

    /// Mark every handed-out ticket past `settled_seq` as failed with `error`.
    pub(super) fn fail_unsettled(&mut self, error: ErrorCopy) {
        if self.last_seq > self.settled_seq {
            self.stats.rolled_back += self.last_seq - self.settled_seq;
            self.failed.push(FailedRange {
                first: self.settled_seq + 1,
                last: self.last_seq,
                error,
            });
            self.settled_seq = self.last_seq;
        }
    }

    /// Callbacks whose tickets are settled, in ticket order.
    pub(super) fn due_callbacks(&mut self) -> BTreeMap<u64, Vec<Durable>> {
        let later = self.callbacks.split_off(&(self.settled_seq + 1));
        std::mem::replace(&mut self.callbacks, later)
    }

    /// Should the committer rotate the log for a snapshot now?
    pub(super) fn compaction_wanted(&self, options: &Options) -> bool {
        let log = self.stats.log_bytes;
        self.compaction.requested
            || (log >= options.compact_min_log_bytes.max(self.compaction.floor)
                && log > options.compact_ratio.saturating_mul(self.live_bytes))
    }

    /// Apply one replayed log line, checking its number.
    fn replay(&mut self, record: Record, size: u64) -> Result<(), String> {
        self.replay_seq.check(record.seq)?;
        self.apply(record.op, size)
    }

    /// Apply one replayed line (from a log or a snapshot).
    fn apply(&mut self, op: Op, size: u64) -> Result<(), String> {
        match op {
            Op::Put { table, key, value } => {
                let entry = Entry {
                    value: Arc::new(value),
                    size,
                };
                self.set(&table, &key, Some(entry));
                Ok(())
            }
            Op::Del { table, key } => {
                self.set(&table, &key, None);
                Ok(())
            }
            Op::End { .. } => Err("a snapshot's end line in a log".into()),
        }
    }
}

/// What the store's threads share.
pub(super) struct Shared {
    pub dir: PathBuf,
    pub options: Options,
    state: Mutex<State>,
    /// The committer waits here for writes, compaction requests and shutdown.
    pub work: Condvar,
    /// Waiters for durability, compaction and shutdown wait here.
    pub settled: Condvar,
    /// Tests: make the next N batch writes fail with `ENOSPC` after writing half.
    #[cfg(test)]
    pub fail_writes: std::sync::atomic::AtomicU32,
}

impl Shared {
    /// Lock the state. A panic while it was held (only a `retain` predicate can panic
    /// there, before anything changed) does not make it unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn wait<'a>(&self, cv: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        cv.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }
}

/// Run settled callbacks, each with its ticket's outcome, on the current thread. A
/// panicking callback is logged and does not stop the others.
pub(super) fn run_callbacks(
    due: BTreeMap<u64, Vec<Durable>>,
    outcome: impl Fn(u64) -> Result<(), StoreError>,
) {
    for (seq, callbacks) in due {
        for done in callbacks {
            let r = outcome(seq);
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || done(r))).is_err() {
                ::log::error!("store: an on_durable callback for ticket {seq} panicked");
            }
        }
    }
}

/// fsync a directory, so names created, renamed or removed in it survive a crash.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A handle on an open store; clones share it. Dropping the last one shuts it down.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    committer: Mutex<Option<JoinHandle<()>>>,
    lock_file: Mutex<Option<File>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    fn shutdown(&self) {
        let shared = &self.shared;
        let mut committer = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if committer
            .as_ref()
            .is_some_and(|h| h.thread().id() == std::thread::current().id())
        {
            // Called from an on_durable callback (the last handle dropped there): the
            // committer can't wait for itself. It flushes and stops after this round.
            shared.lock().closing = true;
            committer.take();
            return;
        }
        {
            let mut st = shared.lock();
            st.closing = true;
            shared.work.notify_one();
            while !st.closed {
                st = shared.wait(&shared.settled, st);
            }
        }
        if let Some(handle) = committer.take() {
            let _ = handle.join();
        }
        // Unlock the directory for the next opener.
        self.lock_file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.shared.dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating) the store in `dir` with the default [`Options`], recovering its
    /// contents as the module doc says.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, Options::default())
    }

    pub fn open_with(dir: &Path, options: Options) -> Result<Store, StoreError> {
        fs::create_dir_all(dir)?;
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Io(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("{} is already open (another process?)", dir.display()),
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::Io(e)),
        }
        let mut state = State::new();
        let log = recover(dir, &mut state)?;
        state.generation = log.generation;
        state.stats.generation = log.generation;
        state.stats.log_bytes = log.len;
        ::log::info!(
            "store: {} opened: {} records in {} tables, log {} ({} bytes)",
            dir.display(),
            state.tables.values().map(|t| t.len()).sum::<usize>(),
            state.tables.len(),
            log_name(log.generation),
            log.len
        );
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            options,
            state: Mutex::new(state),
            work: Condvar::new(),
            settled: Condvar::new(),
            #[cfg(test)]
            fail_writes: std::sync::atomic::AtomicU32::new(0),
        });
        let handle = committer::spawn(shared.clone(), log)?;
        Ok(Store {
            inner: Arc::new(Inner {
                shared,
                committer: Mutex::new(Some(handle)),
                lock_file: Mutex::new(Some(lock_file)),
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// A copy of the record, if there is one.
    pub fn get(&self, table: &str, key: &str) -> Option<Value> {
        self.get_shared(table, key).map(|v| (*v).clone())
    }

    /// The record itself, shared (no copy of the JSON).
    pub fn get_shared(&self, table: &str, key: &str) -> Option<Arc<Value>> {
        let st = self.shared().lock();
        st.tables.get(table)?.get(key).map(|e| e.value.clone())
    }

    /// Number of records in `table`.
    pub fn len(&self, table: &str) -> usize {
        self.shared()
            .lock()
            .tables
            .get(table)
            .map_or(0, |t| t.len())
    }

    /// Is `table` empty (or missing)?
    pub fn is_empty(&self, table: &str) -> bool {
        self.len(table) == 0
    }

    /// Release the lock, waking the committer if it is waiting for work.
    fn queued(&self, mut st: MutexGuard<'_, State>) {
        let wake = std::mem::take(&mut st.committer_idle);
        drop(st);
        if wake {
            self.shared().work.notify_one();
        }
    }

    /// Store `value` under `key`, replacing what was there.
    pub fn put(&self, table: &str, key: &str, value: Value) -> Result<Ticket, StoreError> {
        self.write(table, key, value, false)
    }

    /// Store `value` under `key` unless the key exists (then [`StoreError::Exists`]);
    /// the check and the insert are one step.
    pub fn insert_unique(
        &self,
        table: &str,
        key: &str,
        value: Value,
    ) -> Result<Ticket, StoreError> {
        self.write(table, key, value, true)
    }

    fn write(
        &self,
        table: &str,
        key: &str,
        value: Value,
        unique: bool,
    ) -> Result<Ticket, StoreError> {
        let (depth, _) = shape(&value);
        if depth > MAX_DEPTH {
            return Err(StoreError::TooDeep { depth });
        }
        let mut line = Vec::new();
        let size = encode_put(&mut line, table, key, &value);
        let entry = Entry {
            value: Arc::new(value),
            size,
        };
        let mut st = self.shared().lock();
        st.admit()?;
        if unique && st.tables.get(table).is_some_and(|t| t.contains_key(key)) {
            return Err(StoreError::Exists);
        }
        let undo = st
            .set(table, key, Some(entry))
            .expect("a put always changes the table");
        st.log(&line, undo);
        let ticket = st.issue();
        self.queued(st);
        Ok(ticket)
    }

    /// Remove `key`. Removing a missing key writes nothing; its ticket then covers the
    /// writes that made the state what it is.
    pub fn delete(&self, table: &str, key: &str) -> Result<Ticket, StoreError> {
        let mut line = Vec::new();
        encode_del(&mut line, table, key);
        let mut st = self.shared().lock();
        st.admit()?;
        match st.set(table, key, None) {
            Some(undo) => {
                st.log(&line, undo);
                let ticket = st.issue();
                self.queued(st);
                Ok(ticket)
            }
            None => Ok(st.observed()),
        }
    }

    /// Delete every record of `table` that `keep` refuses, as one write (`None` if
    /// nothing was deleted). `keep` runs under the store's lock: it must be quick and
    /// must not call the store.
    pub fn retain(
        &self,
        table: &str,
        mut keep: impl FnMut(&str, &Value) -> bool,
    ) -> Result<Option<Ticket>, StoreError> {
        let mut st = self.shared().lock();
        st.admit()?;
        let doomed: Vec<Arc<str>> = match st.tables.get(table) {
            Some(t) => t
                .iter()
                .filter(|(k, e)| !keep(k, &e.value))
                .map(|(k, _)| k.clone())
                .collect(),
            None => return Ok(None),
        };
        if doomed.is_empty() {
            return Ok(None);
        }
        let mut line = Vec::new();
        for key in doomed {
            line.clear();
            encode_del(&mut line, table, &key);
            let undo = st.set(table, &key, None).expect("the key was just seen");
            st.log(&line, undo);
        }
        let ticket = st.issue();
        self.queued(st);
        Ok(Some(ticket))
    }

    /// Delete those of `keys` in `table` whose record `doomed` accepts, as one write
    /// (`None` if nothing was deleted); returns the ticket and the keys deleted.
    /// `doomed` runs under the store's lock, once per key found: it must be quick and
    /// must not call the store. For deleting in batches (the session purge): the lock
    /// is held for the given keys only, never for a scan of the table.
    pub fn delete_where<K: AsRef<str> + Clone>(
        &self,
        table: &str,
        keys: &[K],
        mut doomed: impl FnMut(&Value) -> bool,
    ) -> Result<Option<(Ticket, Vec<K>)>, StoreError> {
        let mut st = self.shared().lock();
        st.admit()?;
        let mut deleted = Vec::new();
        let mut line = Vec::new();
        for key in keys {
            let k = key.as_ref();
            let hit = st
                .tables
                .get(table)
                .and_then(|t| t.get(k))
                .is_some_and(|e| doomed(&e.value));
            if !hit {
                continue;
            }
            line.clear();
            encode_del(&mut line, table, k);
            let undo = st.set(table, k, None).expect("the key was just seen");
            st.log(&line, undo);
            deleted.push(key.clone());
        }
        if deleted.is_empty() {
            return Ok(None);
        }
        let ticket = st.issue();
        self.queued(st);
        Ok(Some((ticket, deleted)))
    }

    /// Call `each(key, value, size)` for every record of `table`, under the store's
    /// lock (writers wait meanwhile): for building an index at start, not for requests.
    /// `size` is the record's size as a log line.
    pub fn for_each(&self, table: &str, mut each: impl FnMut(&str, &Value, u64)) {
        let st = self.shared().lock();
        if let Some(t) = st.tables.get(table) {
            for (k, e) in t {
                each(k, &e.value, e.size);
            }
        }
    }

    /// Call `done` once every write up to `t` is durable (`Ok`) or has failed (`Err`):
    /// from the committer thread, or right away on this thread if `t` is already
    /// settled. `done` must be quick and must not wait on the store (it would hold up
    /// every other write); hand the result to another thread (e.g. wake an event loop).
    pub fn on_durable(&self, t: Ticket, done: Durable) {
        let mut st = self.shared().lock();
        if t.0 <= st.settled_seq {
            let r = st.outcome(t.0);
            drop(st);
            done(r);
        } else {
            st.callbacks.entry(t.0).or_default().push(done);
        }
    }

    /// Block until every write up to `t` is durable (`Ok`) or has failed (`Err`).
    pub fn wait_durable(&self, t: Ticket) -> Result<(), StoreError> {
        let shared = self.shared();
        let mut st = shared.lock();
        while st.settled_seq < t.0 {
            st = shared.wait(&shared.settled, st);
        }
        st.outcome(t.0)
    }

    /// Write a snapshot now and drop the logs it replaces; returns when it is durable.
    pub fn compact(&self) -> Result<(), StoreError> {
        let shared = self.shared();
        let mut st = shared.lock();
        if st.closing {
            return Err(StoreError::Closed);
        }
        let target = st.generation + 1;
        st.compaction.requested = true;
        shared.work.notify_one();
        while st.compaction.finished < target && !st.closed {
            st = shared.wait(&shared.settled, st);
        }
        if st.snapshot_generation >= target {
            Ok(())
        } else if let Some(e) = &st.compaction.last_error {
            Err(StoreError::Io(e.to_io()))
        } else {
            Err(StoreError::Closed)
        }
    }

    pub fn stats(&self) -> StoreStats {
        let st = self.shared().lock();
        let mut stats = st.stats.clone();
        stats.live_records = st.tables.values().map(|t| t.len() as u64).sum();
        stats.live_bytes = st.live_bytes;
        stats.generation = st.generation;
        stats
    }

    /// Write and fsync what is pending, settle every ticket, stop the committer and
    /// unlock the directory. Later writes get [`StoreError::Closed`]; reads still work.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }
}

/// Rebuild `st` from the files in `dir` and open the log to append to.
fn recover(dir: &Path, st: &mut State) -> Result<LogFile, StoreError> {
    let mut logs = Vec::new();
    let mut snapshots = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        match classify(name) {
            FileKind::Log(g) => logs.push(g),
            FileKind::Snapshot(g) => snapshots.push(g),
            FileKind::Temp => {
                ::log::warn!(
                    "store: removing {}, a snapshot a crash interrupted",
                    entry.path().display()
                );
                fs::remove_file(entry.path())?;
            }
            FileKind::Other => {}
        }
    }
    logs.sort_unstable();
    snapshots.sort_unstable();
    let base = snapshots.last().copied().unwrap_or(0);
    if base > 0 {
        load_snapshot(&dir.join(snapshot_name(base)), st)?;
        st.snapshot_generation = base;
    }
    let live: Vec<u64> = logs.iter().copied().filter(|&g| g >= base).collect();
    for (i, &g) in live.iter().enumerate() {
        let expected = base + i as u64;
        if g != expected {
            let before = if expected == base && base > 0 {
                format!(
                    "{} or nothing after {}",
                    log_name(expected),
                    snapshot_name(base)
                )
            } else {
                log_name(expected)
            };
            return Err(StoreError::Corrupt {
                file: dir.join(log_name(g)),
                line: 0,
                why: format!("{before} is missing before it; the records in between are lost"),
            });
        }
    }
    for (i, &g) in live.iter().enumerate() {
        let path = dir.join(log_name(g));
        let bytes = fs::read(&path)?;
        let scanned = scan(&path, &bytes, |_, size, record| st.replay(record, size))?;
        if let Some(torn) = scanned.torn {
            if i + 1 < live.len() {
                return Err(StoreError::Corrupt {
                    file: path,
                    line: torn.line,
                    why: format!("{} (and {} follows this log)", torn.why, log_name(g + 1)),
                });
            }
            ::log::warn!(
                "store: {}: line {}: dropping the last {} bytes, a write cut short by a \
                 crash ({}); it was never reported durable",
                path.display(),
                torn.line,
                torn.bytes,
                torn.why
            );
            let file = OpenOptions::new().write(true).open(&path)?;
            file.set_len(scanned.good_len)?;
            file.sync_all()?;
        }
    }
    // Make the newest snapshot's rename durable before deleting what it replaces.
    sync_dir(dir)?;
    let stale: Vec<String> = logs
        .iter()
        .filter(|&&g| g < base)
        .map(|&g| log_name(g))
        .chain(
            snapshots
                .iter()
                .filter(|&&g| g < base)
                .map(|&g| snapshot_name(g)),
        )
        .collect();
    for name in &stale {
        ::log::info!(
            "store: removing {name}, replaced by {}",
            snapshot_name(base)
        );
        fs::remove_file(dir.join(name))?;
    }
    let generation = live.last().copied().unwrap_or(base);
    let path = dir.join(log_name(generation));
    let created = !path.exists();
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    let len = file.seek(SeekFrom::End(0))?;
    if created || !stale.is_empty() {
        sync_dir(dir)?;
    }
    Ok(LogFile {
        file,
        generation,
        len,
        // Logs of old data without numbers: start numbering afresh.
        next_seq: st.replay_seq.next.unwrap_or(1),
    })
}

/// Load a snapshot: `put` lines, then an `end` line counting them. A snapshot is only
/// ever renamed into place complete, so any bad line in it is corruption.
fn load_snapshot(path: &Path, st: &mut State) -> Result<(), StoreError> {
    let bytes = fs::read(path)?;
    let mut count = 0u64;
    let mut ended = false;
    // A snapshot numbers its own lines 1, 2, …; its end line names the last log record
    // before the log it starts, so the log must go on from there.
    let mut lines = Sequence::starting_at(1);
    let mut log_next = Sequence { next: None };
    let scanned = scan(path, &bytes, |_, size, record| {
        if ended {
            return Err("a line after the snapshot's end line".into());
        }
        lines.check(record.seq)?;
        match record.op {
            Op::End { records, log_seq } if records == count => {
                ended = true;
                log_next.next = log_seq.and_then(|s| s.checked_add(1));
                Ok(())
            }
            Op::End { records, .. } => Err(format!(
                "the end line counts {records} records, the snapshot has {count}"
            )),
            Op::Del { .. } => Err("a delete in a snapshot".into()),
            put => {
                count += 1;
                st.apply(put, size)
            }
        }
    })?;
    st.replay_seq = log_next;
    if let Some(torn) = scanned.torn {
        return Err(StoreError::Corrupt {
            file: path.to_path_buf(),
            line: torn.line,
            why: format!("{} (snapshots are written whole)", torn.why),
        });
    }
    if !ended {
        return Err(StoreError::Corrupt {
            file: path.to_path_buf(),
            line: scanned.lines + 1,
            why: "the snapshot has no end line".into(),
        });
    }
    Ok(())
}

/// Name of the temporary file a snapshot is written to.
pub(super) fn snapshot_temp_name(generation: u64) -> String {
    format!("{}{TEMP_SUFFIX}", snapshot_name(generation))
}

#[cfg(test)]
mod tests;
