//! Small files kept in memory, with their validators pre-formatted, like nginx's
//! `open_file_cache` (docs/performance.md, "Static files from memory").
//!
//! Theory of operation: an entry is the whole content of a file of at most
//! [`Limits::max_file`] bytes (shared: [`Body::Shared`] points into it, so a hit copies
//! the bytes once, into the output buffer behind the head), its `ETag`, `Last-Modified`
//! and `Content-Type`, and the [`Stamp`] it was read with (size, mtime to the
//! nanosecond, device and inode). An entry is trusted for [`Limits::trust`] (1 s) since
//! it was last checked; after that the page walks the path again exactly as for a
//! miss (no symlink followed) and fstats the file: the same stamp keeps the bytes
//! ([`FileCache::revalidate`]), another stamp reads them again, and a refusal drops
//! the entry ([`FileCache::remove`]) and answers as an uncached request would. So a
//! change on disk shows within a second, never later, and nothing but whole files
//! that were served (200) is ever cached: every refusal is decided afresh.
//!
//! Bounded: at most [`Limits::max_bytes`] of content and [`Limits::max_entries`]
//! entries; inserting past either evicts the least recently used entries (a scan of
//! the map, on a miss only: the map is small). Each worker has its own cache
//! (thread-local, see [`crate::app::pages::static_files`]), so a hit takes no lock and
//! shares no cache line with another worker; the price is that each worker reads and
//! checks a file on its own, and the memory bound is per worker.
//!
//! Keys are the served directory and the decoded path under it, hashed with FNV-1a:
//! cheaper than SipHash for short keys, and flooding is not a concern because only
//! files that exist and were served are inserted (at most `max_entries`).
//!
//! [`Body::Shared`]: crate::app::Body::Shared

use crate::http::conditional::Validators;
use std::collections::HashMap;
use std::fs::Metadata;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The bounds of one cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest file kept (larger ones are served from disk, with `sendfile`).
    pub max_file: u64,
    /// Content bytes kept at most.
    pub max_bytes: usize,
    /// Entries kept at most.
    pub max_entries: usize,
    /// How long an entry is served without looking at the disk.
    pub trust: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file: 64 * 1024,
            max_bytes: 8 * 1024 * 1024,
            max_entries: 1024,
            trust: Duration::from_secs(1),
        }
    }
}

/// What identifies one version of a file: any change of it means other bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
    dev: u64,
    ino: u64,
}

impl Stamp {
    pub(crate) fn of(meta: &Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            mtime: meta.modified().ok(),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// One cached file: what a hit answers with, nothing left to format.
#[derive(Debug)]
pub(crate) struct Entry {
    pub bytes: Arc<[u8]>,
    /// For the conditional requests.
    pub validators: Validators,
    /// `ETag`, `Last-Modified` and `Accept-Ranges`, encoded (for a 200 or 206).
    pub fields: Arc<Vec<u8>>,
    /// `ETag` and `Last-Modified`, encoded (for a 304).
    pub fields_304: Arc<Vec<u8>>,
    pub content_type: &'static str,
    stamp: Stamp,
    checked: Instant,
    used: u64,
}

/// FNV-1a, 64 bits.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Recently served small files of one worker (see the module docs).
#[derive(Debug)]
pub(crate) struct FileCache {
    limits: Limits,
    map: HashMap<Box<[u8]>, Entry, BuildHasherDefault<Fnv>>,
    /// Content bytes held.
    bytes: usize,
    /// Use counter, for least-recently-used eviction.
    clock: u64,
    /// The current key (directory, NUL, path), built in place: no allocation per look-up.
    key: Vec<u8>,
}

impl FileCache {
    pub(crate) fn new(limits: Limits) -> FileCache {
        FileCache {
            limits,
            map: HashMap::default(),
            bytes: 0,
            clock: 0,
            key: Vec::new(),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Content bytes held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Make `rest` under `dir` the current key, for the calls that follow.
    pub(crate) fn select(&mut self, dir: &std::path::Path, rest: &str) {
        use std::os::unix::ffi::OsStrExt;
        self.key.clear();
        self.key.extend_from_slice(dir.as_os_str().as_bytes());
        // NUL is in no path: the key cannot be read two ways.
        self.key.push(0);
        self.key.extend_from_slice(rest.as_bytes());
    }

    /// The current key's entry if it was checked less than [`Limits::trust`] ago.
    pub(crate) fn fresh(&mut self, now: Instant) -> Option<&Entry> {
        self.clock += 1;
        let clock = self.clock;
        let trust = self.limits.trust;
        let e = self.map.get_mut(&self.key[..])?;
        if now.saturating_duration_since(e.checked) >= trust {
            return None;
        }
        e.used = clock;
        Some(e)
    }

    /// The file was checked again and found with `stamp`: if that is the one its
    /// entry was read with, the entry is trusted anew and returned.
    pub(crate) fn revalidate(&mut self, stamp: Stamp, now: Instant) -> Option<&Entry> {
        let clock = self.clock;
        let e = self.map.get_mut(&self.key[..])?;
        if e.stamp != stamp {
            return None;
        }
        e.checked = now;
        e.used = clock;
        Some(e)
    }

    /// Keep `bytes` (read with `stamp`) under the current key, evicting the least
    /// recently used entries past the bounds. A file larger than the limit is not kept
    /// (`None`); neither is one larger than the whole byte bound.
    pub(crate) fn insert(
        &mut self,
        stamp: Stamp,
        bytes: Arc<[u8]>,
        validators: Validators,
        last_modified: String,
        content_type: &'static str,
        now: Instant,
    ) -> Option<&Entry> {
        self.remove();
        let size = bytes.len();
        // (`Body::Shared` counts in `u32`.)
        if size as u64 > self.limits.max_file.min(u32::MAX.into()) || size > self.limits.max_bytes {
            return None;
        }
        while !self.map.is_empty()
            && (self.bytes + size > self.limits.max_bytes
                || self.map.len() >= self.limits.max_entries)
        {
            self.evict_one();
        }
        if self.limits.max_entries == 0 {
            return None;
        }
        self.bytes += size;
        let fields_304 = format!(
            "ETag: {}\r\nLast-Modified: {last_modified}\r\n",
            validators.etag
        );
        let fields = format!("{fields_304}Accept-Ranges: bytes\r\n");
        let entry = Entry {
            bytes,
            validators,
            fields: Arc::new(fields.into_bytes()),
            fields_304: Arc::new(fields_304.into_bytes()),
            content_type,
            stamp,
            checked: now,
            used: self.clock,
        };
        let key: Box<[u8]> = self.key.as_slice().into();
        Some(self.map.entry(key).insert_entry(entry).into_mut())
    }

    /// Forget the current key's entry (the file is gone, or no longer ours to serve).
    pub(crate) fn remove(&mut self) {
        if let Some(e) = self.map.remove(&self.key[..]) {
            self.bytes -= e.bytes.len();
        }
    }

    fn evict_one(&mut self) {
        let oldest = self
            .map
            .iter()
            .min_by_key(|(_, e)| e.used)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest
            && let Some(e) = self.map.remove(&k)
        {
            self.bytes -= e.bytes.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(len: u64, ino: u64) -> Stamp {
        Stamp {
            len,
            mtime: None,
            dev: 1,
            ino,
        }
    }

    fn put(c: &mut FileCache, name: &str, size: usize, now: Instant) -> bool {
        c.select(std::path::Path::new("/d"), name);
        c.insert(
            stamp(size as u64, 7),
            vec![b'x'; size].into(),
            Validators::of_file(0, size as u64),
            String::new(),
            "text/plain",
            now,
        )
        .is_some()
    }

    fn limits() -> Limits {
        Limits {
            max_file: 1000,
            max_bytes: 10_000,
            max_entries: 50,
            trust: Duration::from_secs(1),
        }
    }

    #[test]
    fn many_files_never_grow_it_past_its_bounds() {
        let mut c = FileCache::new(limits());
        let now = Instant::now();
        for i in 0..5000 {
            assert!(put(&mut c, &format!("f{i}"), 1 + (i * 37) % 1000, now));
            assert!(c.bytes() <= 10_000, "{} bytes after {i}", c.bytes());
            assert!(c.len() <= 50);
            let held: usize = c.map.values().map(|e| e.bytes.len()).sum();
            assert_eq!(held, c.bytes());
        }
        // Too large for an entry: not kept, and nothing evicted for it.
        let before = c.len();
        assert!(!put(&mut c, "huge", 1001, now));
        assert_eq!(c.len(), before);
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let mut c = FileCache::new(Limits {
            max_bytes: 300,
            ..limits()
        });
        let now = Instant::now();
        put(&mut c, "a", 100, now);
        put(&mut c, "b", 100, now);
        put(&mut c, "c", 100, now);
        c.select(std::path::Path::new("/d"), "a");
        assert!(c.fresh(now).is_some());
        put(&mut c, "d", 100, now); // evicts b, the least recently used
        for (name, kept) in [("a", true), ("b", false), ("c", true), ("d", true)] {
            c.select(std::path::Path::new("/d"), name);
            assert_eq!(c.fresh(now).is_some(), kept, "{name}");
        }
        assert_eq!(c.bytes(), 300);
    }

    #[test]
    fn an_entry_is_trusted_for_the_window_then_revalidated_by_stamp() {
        let mut c = FileCache::new(limits());
        let t0 = Instant::now();
        put(&mut c, "a", 10, t0);
        c.select(std::path::Path::new("/d"), "a");
        assert!(c.fresh(t0 + Duration::from_millis(999)).is_some());
        let later = t0 + Duration::from_secs(1);
        assert!(c.fresh(later).is_none(), "stale after the window");
        // Another stamp: not revalidated (the caller reads the file again).
        assert!(c.revalidate(stamp(10, 8), later).is_none());
        assert!(c.revalidate(stamp(11, 7), later).is_none());
        assert!(c.revalidate(stamp(10, 7), later).is_some());
        assert!(c.fresh(later + Duration::from_millis(500)).is_some());
        c.remove();
        assert!(c.fresh(later).is_none());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn keys_are_per_directory() {
        let mut c = FileCache::new(limits());
        let now = Instant::now();
        put(&mut c, "a", 10, now);
        c.select(std::path::Path::new("/e"), "a");
        assert!(c.fresh(now).is_none());
        c.select(std::path::Path::new("/d/a"), "");
        assert!(c.fresh(now).is_none());
    }
}
