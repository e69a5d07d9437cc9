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
//!
//! This file is the facade: [`Store`] and its methods. The pieces live beside it (see
//! `store/mod.rs` for which imports which); the names callers use are re-exported here.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use serde_json::Value;

use super::committer;
use super::log::{LOCK_FILE, encode_del, encode_put, log_name, shape};
use super::recovery::recover;
use super::state::{Entry, Shared, State};

pub(crate) use super::error::StoreError;
pub(crate) use super::options::{MAX_DEPTH, Options};
pub(crate) use super::state::{Durable, StoreStats, Ticket};

/// A handle on an open store; clones share it. Dropping the last one shuts it down.
#[derive(Clone)]
pub(crate) struct Store {
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
    pub(crate) fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, Options::default())
    }

    pub(crate) fn open_with(dir: &Path, options: Options) -> Result<Store, StoreError> {
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
        let shared = Arc::new(Shared::new(dir.to_path_buf(), options, state));
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
    pub(crate) fn get(&self, table: &str, key: &str) -> Option<Value> {
        self.get_shared(table, key).map(|v| (*v).clone())
    }

    /// The record itself, shared (no copy of the JSON).
    pub(crate) fn get_shared(&self, table: &str, key: &str) -> Option<Arc<Value>> {
        let st = self.shared().lock();
        st.tables.get(table)?.get(key).map(|e| e.value.clone())
    }

    /// Number of records in `table`.
    #[cfg(test)]
    pub(crate) fn len(&self, table: &str) -> usize {
        self.shared()
            .lock()
            .tables
            .get(table)
            .map_or(0, |t| t.len())
    }

    /// Is `table` empty (or missing)?
    #[cfg(test)]
    pub(crate) fn is_empty(&self, table: &str) -> bool {
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
    pub(crate) fn put(&self, table: &str, key: &str, value: Value) -> Result<Ticket, StoreError> {
        self.write(table, key, value, false)
    }

    /// Store `value` under `key` unless the key exists (then [`StoreError::Exists`]);
    /// the check and the insert are one step.
    pub(crate) fn insert_unique(
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
    pub(crate) fn delete(&self, table: &str, key: &str) -> Result<Ticket, StoreError> {
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
    #[cfg(test)]
    pub(crate) fn retain(
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
    pub(crate) fn delete_where<K: AsRef<str> + Clone>(
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
    pub(crate) fn for_each(&self, table: &str, mut each: impl FnMut(&str, &Value, u64)) {
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
    pub(crate) fn on_durable(&self, t: Ticket, done: Durable) {
        let mut st = self.shared().lock();
        // Settled, and no earlier callback still running: call it now, here.
        if t.0 <= st.settled_seq && st.delivering == 0 {
            let r = st.outcome(t.0);
            drop(st);
            done(r);
        } else {
            st.callbacks.entry(t.0).or_default().push(done);
        }
    }

    /// Block until every write up to `t` is durable (`Ok`) or has failed (`Err`).
    #[cfg(test)]
    pub(crate) fn wait_durable(&self, t: Ticket) -> Result<(), StoreError> {
        let shared = self.shared();
        let mut st = shared.lock();
        while st.settled_seq < t.0 {
            st = shared.wait(&shared.settled, st);
        }
        st.outcome(t.0)
    }

    /// Write a snapshot now and drop the logs it replaces; returns when it is durable.
    #[cfg(test)]
    pub(crate) fn compact(&self) -> Result<(), StoreError> {
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

    pub(crate) fn stats(&self) -> StoreStats {
        let st = self.shared().lock();
        let mut stats = st.stats.clone();
        stats.live_records = st.tables.values().map(|t| t.len() as u64).sum();
        stats.live_bytes = st.live_bytes;
        stats.generation = st.generation;
        stats
    }

    /// Write and fsync what is pending, settle every ticket, stop the committer and
    /// unlock the directory. Later writes get [`StoreError::Closed`]; reads still work.
    pub(crate) fn shutdown(&self) {
        self.inner.shutdown();
    }
}

#[cfg(test)]
mod tests;
