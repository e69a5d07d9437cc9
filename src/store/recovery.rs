//! Opening a store: load the newest snapshot, replay the logs after it, clean up what
//! a crash left, and open the log to append to. The crash analysis is in `db.rs`,
//! "Recovery".

use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::Path;

use super::committer::LogFile;
use super::error::StoreError;
use super::log::{FileKind, Op, Sequence, classify, log_name, scan, snapshot_name, sync_dir};
use super::state::State;

/// Rebuild `st` from the files in `dir` and open the log to append to.
pub(super) fn recover(dir: &Path, st: &mut State) -> Result<LogFile, StoreError> {
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
