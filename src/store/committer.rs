//! The committer thread: the only writer of the log, group-committing every write.
//!
//! Theory of operation. The thread sleeps on `Shared::work` until a writer queues a
//! line (it wakes it only when it is idle), a compaction is wanted, or the store
//! closes. A *round* takes, under the lock, the whole pending buffer, the undo records
//! that go with it and the highest ticket handed out; then, without the lock, one
//! `write_all` and one `sync_data`; then, under the lock again, it settles every ticket
//! up to that one and takes the callbacks that are due, which it runs after unlocking.
//! Writers keep appending to the (swapped-in, empty) pending buffer during the fsync:
//! that is the whole of group commit — the next round's batch is everything that
//! arrived while this one was on its way to the disk.
//!
//! Compaction is a *rotation* done between rounds (the lock is held only to clone the
//! tables, which are `Arc`ed) plus a snapshot written by a short-lived thread, so the
//! rounds go on while the snapshot is written; see `db.rs` for the crash analysis.
//!
//! A failed round (disk full) cuts the log back to its last durable length and rolls
//! every undurable write back in memory; see `db.rs`, "When a write fails".

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::error::{ErrorCopy, StoreError};
use super::log::{
    FileKind, classify, encode_end, encode_put, frame_lines, log_name, snapshot_name,
    snapshot_temp_name, sync_dir,
};
use super::state::{Health, Shared, State, Tables, Undo, finish_delivery, run_callbacks};

/// A pending buffer bigger than this (16 MiB, after a burst) is not kept for reuse.
const MAX_SPARE_BUFFER: usize = 16 << 20;
/// Buffer of the snapshot writer: 64 KiB writes.
const SNAPSHOT_BUFFER: usize = 64 << 10;

/// The log being appended to.
pub(super) struct LogFile {
    pub file: File,
    pub generation: u64,
    /// Bytes known durable: everything before this offset was fsynced.
    pub len: u64,
    /// The number the next record written gets (one past the last durable one).
    pub next_seq: u64,
}

impl LogFile {
    /// Write `bytes` at the end and fsync.
    fn append(&mut self, bytes: &[u8], shared: &Shared) -> io::Result<()> {
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let injected =
                shared
                    .fail_writes
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if injected.is_ok() {
                // A disk that fills up halfway through the batch.
                self.file.write_all(&bytes[..bytes.len() / 2])?;
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
        }
        #[cfg(not(test))]
        let _ = shared;
        self.file.write_all(bytes)?;
        self.file.sync_data()?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Cut the file back to its durable length, after a failed append.
    fn rewind(&mut self) -> io::Result<()> {
        self.file.set_len(self.len)?;
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.sync_data()
    }
}

/// Start the committer thread.
pub(super) fn spawn(shared: Arc<Shared>, log: LogFile) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("wirepost-store".into())
        .spawn(move || {
            let mut committer = Committer {
                shared: shared.clone(),
                log,
                framed: Vec::new(),
                spare: Vec::new(),
                spare_undo: Vec::new(),
                snapshotter: None,
            };
            if catch_unwind(AssertUnwindSafe(|| committer.run())).is_err() {
                ::log::error!("store: the committer thread panicked; writes refused until restart");
                give_up(&shared);
            }
        })
}

/// After a committer panic: fail every waiting ticket and refuse writes.
fn give_up(shared: &Shared) {
    let why = "the store's committer thread panicked";
    let due = {
        let mut st = shared.lock();
        st.health = Health::Broken;
        st.closing = true;
        st.fail_unsettled(ErrorCopy::of(&io::Error::other(why)));
        st.closed = true;
        shared.settled.notify_all();
        st.due_callbacks()
    };
    // Callbacks wait only for unsettled tickets, all of which just failed.
    run_callbacks(due, |_| Err(StoreError::Io(io::Error::other(why))));
    finish_delivery(shared);
}

struct Committer {
    shared: Arc<Shared>,
    log: LogFile,
    /// The batch as written: numbered and checksummed (writers queue bare records).
    framed: Vec<u8>,
    /// The other halves of the double buffers: swapped with `State::pending` and
    /// `State::pending_undo` each round.
    spare: Vec<u8>,
    spare_undo: Vec<Undo>,
    snapshotter: Option<JoinHandle<()>>,
}

/// What one round took from the state.
struct Round {
    bytes: Vec<u8>,
    undo: Vec<Undo>,
    /// Highest ticket in (or before) the batch.
    last: u64,
    /// Tables to snapshot, if this round rotates the log.
    snapshot: Option<Tables>,
}

impl Committer {
    fn run(&mut self) {
        while let Some(round) = self.next_round() {
            self.commit(round);
        }
        if let Some(handle) = self.snapshotter.take() {
            let _ = handle.join();
        }
        let mut st = self.shared.lock();
        st.closed = true;
        self.shared.settled.notify_all();
    }

    /// Wait for work and take it; `None` once closing with nothing left to do.
    fn next_round(&mut self) -> Option<Round> {
        let shared = &*self.shared;
        let mut st = shared.lock();
        let compact = loop {
            let compact =
                !st.closing && !st.compaction.running && st.compaction_wanted(&shared.options);
            if compact || !st.pending.is_empty() {
                break compact;
            }
            if st.closing && !st.compaction.running {
                return None;
            }
            st.committer_idle = true;
            st = shared.wait(&shared.work, st);
            st.committer_idle = false;
        };
        let bytes = mem::replace(&mut st.pending, mem::take(&mut self.spare));
        let undo = mem::replace(&mut st.pending_undo, mem::take(&mut self.spare_undo));
        let snapshot = if compact {
            st.compaction.running = true;
            st.compaction.requested = false;
            Some(st.tables.clone())
        } else {
            None
        };
        Some(Round {
            bytes,
            undo,
            last: st.last_seq,
            snapshot,
        })
    }

    fn commit(&mut self, mut round: Round) {
        let written = if round.bytes.is_empty() {
            Ok(())
        } else {
            // Number and checksum the records here, on the one thread that writes the
            // log: the numbers then follow the order of the file, and writers never
            // wait for one. A failed batch takes no numbers (the log is cut back), so
            // the next batch goes on from the last durable record.
            self.framed.clear();
            let count = frame_lines(&mut self.framed, &round.bytes, self.log.next_seq);
            let done = self.log.append(&self.framed, &self.shared);
            if done.is_ok() {
                self.log.next_seq += count;
            }
            if self.framed.capacity() > MAX_SPARE_BUFFER {
                self.framed = Vec::new();
            }
            done
        };
        match written {
            Ok(()) => self.committed(&mut round),
            Err(e) => self.failed(&mut round, e),
        }
        // Old values in undo records are dropped here, outside the lock.
        round.undo.clear();
        round.bytes.clear();
        if round.bytes.capacity() <= MAX_SPARE_BUFFER {
            self.spare = round.bytes;
            self.spare_undo = round.undo;
        }
    }

    fn committed(&mut self, round: &mut Round) {
        let rotated = round.snapshot.take().map(|tables| (self.rotate(), tables));
        let due = {
            let mut st = self.shared.lock();
            if !round.bytes.is_empty() {
                st.stats.commits += 1;
                st.stats.fsyncs += 1;
                st.stats.largest_batch = st.stats.largest_batch.max(round.undo.len() as u64);
            }
            st.settled_seq = st.settled_seq.max(round.last);
            match &rotated {
                Some((Ok(()), _)) => {
                    st.stats.fsyncs += 1;
                    st.generation = self.log.generation;
                }
                Some((Err(e), _)) => {
                    let attempted = self.log.generation + 1;
                    compaction_failed(&self.shared, &mut st, attempted, e);
                }
                None => {}
            }
            st.stats.log_bytes = self.log.len;
            self.shared.settled.notify_all();
            st.due_callbacks()
        };
        if let Some((Ok(()), tables)) = rotated {
            let shared = self.shared.clone();
            let generation = self.log.generation;
            // The last record before the new log: the snapshot names it so that
            // recovery knows the new log's first number.
            let log_seq = self.log.next_seq - 1;
            let spawned = thread::Builder::new()
                .name("wirepost-snapshot".into())
                .spawn(move || snapshot_and_report(&shared, generation, log_seq, tables));
            match spawned {
                Ok(handle) => self.snapshotter = Some(handle),
                Err(e) => {
                    ::log::error!("store: can't start the snapshot thread: {e}");
                    compaction_failed(&self.shared, &mut self.shared.lock(), generation, &e);
                    self.shared.settled.notify_all();
                }
            }
        }
        run_callbacks(due, |_| Ok(()));
        finish_delivery(&self.shared);
    }

    /// Start the next log: create it, make its name durable, switch to it.
    fn rotate(&mut self) -> io::Result<()> {
        let generation = self.log.generation + 1;
        let path = self.shared.dir.join(log_name(generation));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        if let Err(e) = sync_dir(&self.shared.dir) {
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        ::log::info!(
            "store: compacting: new writes go to {}",
            log_name(generation)
        );
        self.log = LogFile {
            file,
            generation,
            len: 0,
            next_seq: self.log.next_seq,
        };
        Ok(())
    }

    /// The batch could not be made durable: cut the log back, undo every write that is
    /// not durable (newest first), fail their tickets, refuse writes for a while.
    fn failed(&mut self, round: &mut Round, e: io::Error) {
        let rewound = self.log.rewind();
        let error = ErrorCopy::of(&e);
        // Dropped (the clone for a snapshot) outside the lock.
        let snapshot = round.snapshot.take();
        let due = {
            let mut st = self.shared.lock();
            let later = mem::take(&mut st.pending_undo);
            st.pending.clear();
            for u in later.into_iter().rev() {
                st.undo(u);
            }
            for u in round.undo.drain(..).rev() {
                st.undo(u);
            }
            let first = st.settled_seq + 1;
            let last = st.last_seq;
            st.fail_unsettled(error);
            st.stats.failures += 1;
            if snapshot.is_some() {
                compaction_failed(&self.shared, &mut st, self.log.generation + 1, &e);
            }
            let retry = self.shared.options.retry_after_failure;
            match &rewound {
                Ok(()) => {
                    ::log::error!(
                        "store: writing to {} failed: {e}; writes {first}..={last} rolled \
                         back and reported failed; writes refused for {retry:?}, then retried",
                        log_name(self.log.generation)
                    );
                    st.health = Health::Failed {
                        retry_at: Instant::now() + retry,
                    };
                }
                Err(e2) => {
                    ::log::error!(
                        "store: writing to {} failed: {e}, and cutting it back failed too: \
                         {e2}; writes {first}..={last} rolled back; writes refused until restart",
                        log_name(self.log.generation)
                    );
                    st.health = Health::Broken;
                }
            }
            self.shared.settled.notify_all();
            st.due_callbacks()
        };
        drop(snapshot);
        let outcome = ErrorCopy::of(&e);
        run_callbacks(due, |_| Err(StoreError::Io(outcome.to_io())));
        finish_delivery(&self.shared);
    }
}

/// Record a failed compaction attempt for `generation` (a pending [`Store::compact`]
/// request stays pending), and back off: no automatic attempt before the log has
/// grown by another `compact_min_log_bytes`.
///
/// [`Store::compact`]: super::db::Store::compact
fn compaction_failed(shared: &Shared, st: &mut State, generation: u64, e: &io::Error) {
    ::log::error!("store: compaction to generation {generation} failed: {e}");
    st.compaction.running = false;
    st.compaction.finished = st.compaction.finished.max(generation);
    st.compaction.last_error = Some(ErrorCopy::of(e));
    st.compaction.floor = st.stats.log_bytes + shared.options.compact_min_log_bytes;
}

/// The snapshot thread: write the snapshot, then tell the store.
fn snapshot_and_report(shared: &Shared, generation: u64, log_seq: u64, tables: Tables) {
    let result = write_snapshot(shared, generation, log_seq, &tables);
    drop(tables);
    let mut st = shared.lock();
    match result {
        Ok(fsyncs) => {
            st.compaction.running = false;
            st.compaction.finished = st.compaction.finished.max(generation);
            st.compaction.last_error = None;
            st.compaction.floor = 0;
            st.snapshot_generation = generation;
            st.stats.compactions += 1;
            st.stats.fsyncs += fsyncs;
        }
        Err(e) => compaction_failed(shared, &mut st, generation, &e),
    }
    shared.work.notify_one();
    shared.settled.notify_all();
}

/// Write `snapshot-N` from `tables` (temp file, fsync, rename, fsync the directory),
/// then delete the logs and snapshots it replaces. Returns the fsyncs it made.
fn write_snapshot(
    shared: &Shared,
    generation: u64,
    log_seq: u64,
    tables: &Tables,
) -> io::Result<u64> {
    let dir = &shared.dir;
    let started = Instant::now();
    let temp = dir.join(snapshot_temp_name(generation));
    let written = (|| -> io::Result<(u64, u64)> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        let mut out = BufWriter::with_capacity(SNAPSHOT_BUFFER, file);
        let (mut line, mut framed) = (Vec::new(), Vec::new());
        let (mut records, mut bytes) = (0u64, 0u64);
        for (table, map) in tables {
            for (key, entry) in map {
                line.clear();
                framed.clear();
                encode_put(&mut line, table, key, &entry.value);
                records += frame_lines(&mut framed, &line, records + 1);
                bytes += framed.len() as u64;
                out.write_all(&framed)?;
            }
        }
        framed.clear();
        encode_end(&mut framed, records + 1, records, log_seq);
        bytes += framed.len() as u64;
        out.write_all(&framed)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((records, bytes))
    })();
    let (records, bytes) = match written {
        Ok(counts) => counts,
        Err(e) => {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
    };
    fs::rename(&temp, dir.join(snapshot_name(generation)))?;
    sync_dir(dir)?;
    let mut fsyncs = 2;
    // The snapshot is durable: what it replaces can go. A file that won't go is only
    // wasted space (the next open removes it), so this doesn't fail the compaction.
    let mut removed = 0;
    for entry in fs::read_dir(dir)?.flatten() {
        let name = entry.file_name();
        let old = match classify(&name.to_string_lossy()) {
            FileKind::Log(g) | FileKind::Snapshot(g) => g < generation,
            _ => false,
        };
        if old {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) => ::log::warn!("store: can't remove {}: {e}", entry.path().display()),
            }
        }
    }
    if removed > 0 && sync_dir(dir).is_ok() {
        fsyncs += 1;
    }
    ::log::info!(
        "store: wrote {} ({records} records, {bytes} bytes) in {:?}; removed {removed} older files",
        snapshot_name(generation),
        started.elapsed()
    );
    Ok(fsyncs)
}
