//! The in-memory side of the store: the tables behind one mutex, the tickets, the undo
//! records of writes not yet durable, and applying a record (a write, or one replayed
//! at recovery) to the tables. No files here: the committer writes, recovery reads.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::Value;

use super::error::{ErrorCopy, StoreError};
use super::log::{Op, Record, Sequence};
use super::options::Options;

/// The sequence number of a write. Ticket `t` is durable once every write numbered
/// `≤ t` is on disk. `Ticket(0)` stands for "nothing to wait for".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ticket(pub(super) u64);

impl Ticket {}

/// A callback for [`Store::on_durable`](super::db::Store::on_durable).
pub(crate) type Durable = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Counters for benchmarks and the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StoreStats {
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
    /// [`Store::compact`](super::db::Store::compact) asked for one.
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
    /// Threads running settled callbacks right now ([`State::due_callbacks`] until
    /// [`finish_delivery`]): a callback registered meanwhile for a settled ticket
    /// waits for them, so that callbacks still run in ticket order.
    pub delivering: u32,
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
    pub replay_seq: Sequence,
}

impl State {
    pub(super) fn new() -> State {
        State {
            tables: HashMap::new(),
            live_bytes: 0,
            pending: Vec::new(),
            pending_undo: Vec::new(),
            last_seq: 0,
            settled_seq: 0,
            failed: Vec::new(),
            callbacks: BTreeMap::new(),
            delivering: 0,
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
    pub(super) fn admit(&mut self) -> Result<(), StoreError> {
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
    pub(super) fn set(&mut self, table: &str, key: &str, new: Option<Entry>) -> Option<Undo> {
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
    pub(super) fn log(&mut self, line: &[u8], undo: Undo) {
        self.pending.extend_from_slice(line);
        self.pending_undo.push(undo);
        self.stats.records += 1;
    }

    /// The ticket of the write just queued.
    pub(super) fn issue(&mut self) -> Ticket {
        self.last_seq += 1;
        self.stats.writes += 1;
        Ticket(self.last_seq)
    }

    /// A ticket covering the state as it is now, for a write that changed nothing.
    pub(super) fn observed(&self) -> Ticket {
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

    /// Callbacks whose tickets are settled, in ticket order. The caller runs them
    /// and then calls [`finish_delivery`].
    pub(super) fn due_callbacks(&mut self) -> BTreeMap<u64, Vec<Durable>> {
        self.delivering += 1;
        self.take_settled()
    }

    fn take_settled(&mut self) -> BTreeMap<u64, Vec<Durable>> {
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
    pub(super) fn replay(&mut self, record: Record, size: u64) -> Result<(), String> {
        self.replay_seq.check(record.seq)?;
        self.apply(record.op, size)
    }

    /// Apply one replayed line (from a log or a snapshot).
    pub(super) fn apply(&mut self, op: Op, size: u64) -> Result<(), String> {
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
    pub(super) fn new(dir: PathBuf, options: Options, state: State) -> Shared {
        Shared {
            dir,
            options,
            state: Mutex::new(state),
            work: Condvar::new(),
            settled: Condvar::new(),
            #[cfg(test)]
            fail_writes: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// Lock the state. A panic while it was held (only a `retain` predicate can panic
    /// there, before anything changed) does not make it unusable.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn wait<'a>(
        &self,
        cv: &Condvar,
        guard: MutexGuard<'a, State>,
    ) -> MutexGuard<'a, State> {
        cv.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }
}

/// After running the callbacks of [`State::due_callbacks`]: run those registered
/// for settled tickets meanwhile (they waited, to keep ticket order), then stop
/// counting as delivering.
pub(super) fn finish_delivery(shared: &Shared) {
    loop {
        let late: Vec<(u64, Durable, Result<(), StoreError>)> = {
            let mut st = shared.lock();
            let due = st.take_settled();
            if due.is_empty() {
                st.delivering -= 1;
                return;
            }
            due.into_iter()
                .flat_map(|(seq, cbs)| cbs.into_iter().map(move |cb| (seq, cb)))
                .map(|(seq, cb)| (seq, cb, st.outcome(seq)))
                .collect()
        };
        for (seq, done, r) in late {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || done(r))).is_err() {
                ::log::error!("store: an on_durable callback for ticket {seq} panicked");
            }
        }
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
