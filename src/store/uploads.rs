//! Stored uploads: files under `data/uploads/`, written in pieces as they arrive and
//! made visible only once complete and durable.
//!
//! Theory of operation. An upload is written to a temporary file
//! (`data/uploads/.tmp-<pid>-<n>`), which is deleted if anything goes wrong before
//! commit ([`TempUpload`] deletes it on `Drop`). Commit fsyncs the file, gives it its
//! stored name with `link(2)` — which, unlike `rename(2)`, fails instead of replacing
//! an existing file, so two uploads of `cat.png` in the same millisecond can't
//! overwrite each other — removes the temporary name, and fsyncs the directory so the
//! new name survives a crash. Temporary files left by a crash are removed at start.
//!
//! Stored names (SPEC "Uploads"): the client's file name made safe ([`safe_name`]),
//! with the upload time in milliseconds before the extension: `cat.png` →
//! `cat-1700000000123.png`; a second one in the same millisecond `cat-1700000000123-1.png`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest stored name we make (well under every filesystem's 255 bytes).
pub(crate) const MAX_STORED_NAME: usize = 120;
/// Prefix of temporary files; a stored name never starts with `.`.
const TEMP_PREFIX: &str = ".tmp-";

/// The directory of stored uploads.
#[derive(Debug)]
pub(crate) struct UploadDir {
    dir: PathBuf,
    counter: AtomicU64,
}

impl UploadDir {
    /// Open (creating) the directory and remove temporary files a crash left behind.
    pub(crate) fn open(dir: impl Into<PathBuf>) -> io::Result<UploadDir> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                log::warn!(
                    "removing {} left by an interrupted upload",
                    entry.path().display()
                );
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(UploadDir {
            dir,
            counter: AtomicU64::new(0),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// A new, empty temporary file.
    pub(crate) fn temp(&self) -> io::Result<TempUpload> {
        loop {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let path = self
                .dir
                .join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempUpload {
                        file,
                        path,
                        dir: self.dir.clone(),
                        size: 0,
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The path of a stored upload, if `name` is one we could have made (no path
    /// parts, no temporary files) and it exists.
    pub(crate) fn stored(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty()
            || name.starts_with('.')
            || name.contains(['/', '\\', '\0'])
            || name.len() > MAX_STORED_NAME + 32
        {
            return None;
        }
        let p = self.dir.join(name);
        p.is_file().then_some(p)
    }
}

/// An upload being written. Deleted on drop unless committed.
#[derive(Debug)]
pub(crate) struct TempUpload {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    size: u64,
    done: bool,
}

impl TempUpload {
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Make the file durable under its stored name; returns that name. Slow (two
    /// fsyncs): run it off the event loop.
    pub(crate) fn commit(mut self, client_name: &str, unix_ms: u64) -> io::Result<String> {
        self.file.sync_all()?;
        let safe = safe_name(client_name);
        let mut n = 0u32;
        let stored = loop {
            let candidate = stored_name(&safe, unix_ms, n);
            match fs::hard_link(&self.path, self.dir.join(&candidate)) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(e),
            }
        };
        // From here on the file has its stored name: a failure must take that name
        // away again, or a failed upload (answered 507/500) would be left behind.
        let finished = (|| {
            #[cfg(test)]
            if FAIL_AFTER_LINK.with(|f| f.replace(false)) {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            fs::remove_file(&self.path)?;
            File::open(&self.dir)?.sync_all()
        })();
        match finished {
            Ok(()) => {
                self.done = true;
                Ok(stored)
            }
            Err(e) => {
                let _ = fs::remove_file(self.dir.join(&stored));
                Err(e)
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Make this thread's next commit fail after the link (as a directory fsync on a
    /// failing disk would).
    static FAIL_AFTER_LINK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Remove a stored upload (undoing part of a multi-file upload that failed).
pub(crate) fn remove_stored(dir: &Path, name: &str) {
    let _ = fs::remove_file(dir.join(name));
}

/// The client's file name made safe to store: the last path part only (browsers on
/// Windows once sent `C:\Users\me\cat.png`), control characters and anything but
/// letters, digits, `.`, `-`, `_` replaced by `_`, no leading dots (no hidden files,
/// no `..`), at most [`MAX_STORED_NAME`] bytes minus room for the time stamp, and
/// `upload` when nothing is left.
pub(crate) fn safe_name(client: &str) -> String {
    let last = client.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(last.len());
    for c in last.chars() {
        if c.is_alphanumeric() && !c.is_control() || matches!(c, '.' | '-' | '_') {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    let trimmed = out.trim_start_matches(['.', '_']).trim_end_matches('.');
    let mut name = if trimmed.is_empty() {
        "upload".to_string()
    } else {
        trimmed.to_string()
    };
    let budget = MAX_STORED_NAME - 24; // "-" + 13 digits + "-n" + spare
    if name.len() > budget {
        // Keep the extension; cut the stem on a char boundary.
        let (stem, ext) = split_ext(&name);
        let ext = if ext.len() > 16 { "" } else { ext };
        let mut cut = budget.saturating_sub(ext.len() + 1);
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        name = if ext.is_empty() {
            stem[..cut].to_string()
        } else {
            format!("{}.{ext}", &stem[..cut])
        };
    }
    name
}

/// `stem.ext` → (`stem`, `ext`); no extension when there is no dot past the first byte.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

/// `cat.png`, 1700000000123, 0 → `cat-1700000000123.png`; n > 0 adds `-n`.
pub(crate) fn stored_name(safe: &str, unix_ms: u64, n: u32) -> String {
    let (stem, ext) = split_ext(safe);
    let unique = if n == 0 {
        format!("{stem}-{unix_ms}")
    } else {
        format!("{stem}-{unix_ms}-{n}")
    };
    if ext.is_empty() {
        unique
    } else {
        format!("{unique}.{ext}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "wirepost-uploads-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&p);
        p
    }

    #[test]
    fn safe_names() {
        let cases = [
            ("cat.png", "cat.png"),
            ("C:\\Users\\me\\cat.png", "cat.png"),
            ("../../etc/passwd", "passwd"),
            ("..", "upload"),
            ("", "upload"),
            (".htaccess", "htaccess"),
            ("my cat.png", "my_cat.png"),
            ("a\r\nb.txt", "a__b.txt"),
            ("a\0b", "a_b"),
            ("café.jpg", "café.jpg"),
            ("x;rm -rf.sh", "x_rm_-rf.sh"),
            ("report.", "report"),
            ("archive.tar.gz", "archive.tar.gz"),
        ];
        for (client, want) in cases {
            assert_eq!(safe_name(client), want, "{client:?}");
        }
        let long = format!("{}.png", "a".repeat(500));
        let s = safe_name(&long);
        assert!(
            s.len() <= MAX_STORED_NAME - 24 && s.ends_with(".png"),
            "{s}"
        );
        let long_utf8 = "é".repeat(300);
        assert!(safe_name(&long_utf8).len() <= MAX_STORED_NAME - 24);
    }

    #[test]
    fn stored_names_put_the_time_before_the_extension() {
        assert_eq!(
            stored_name("cat.png", 1700000000123, 0),
            "cat-1700000000123.png"
        );
        assert_eq!(
            stored_name("cat.png", 1700000000123, 2),
            "cat-1700000000123-2.png"
        );
        assert_eq!(stored_name("README", 5, 0), "README-5");
        assert_eq!(stored_name("a.tar.gz", 5, 0), "a.tar-5.gz");
    }

    #[test]
    fn commit_makes_unique_durable_names_and_drop_cleans_up() {
        let root = temp_root("commit");
        let dir = UploadDir::open(&root).unwrap();
        let mut a = dir.temp().unwrap();
        a.write(b"first").unwrap();
        let mut b = dir.temp().unwrap();
        b.write(b"second").unwrap();
        let c = dir.temp().unwrap();
        let na = a.commit("cat.png", 42).unwrap();
        let nb = b.commit("cat.png", 42).unwrap();
        assert_eq!(na, "cat-42.png");
        assert_eq!(nb, "cat-42-1.png");
        assert_eq!(fs::read(root.join(&na)).unwrap(), b"first");
        assert_eq!(fs::read(root.join(&nb)).unwrap(), b"second");
        drop(c); // an aborted upload
        let names: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(dir.stored(&na).is_some());
        assert!(dir.stored("../x").is_none());
        assert!(dir.stored(".tmp-1-1").is_none());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_commit_that_fails_after_the_link_leaves_nothing() {
        let root = temp_root("after-link");
        let dir = UploadDir::open(&root).unwrap();
        let mut a = dir.temp().unwrap();
        a.write(b"half-stored").unwrap();
        FAIL_AFTER_LINK.with(|f| f.set(true));
        let e = a.commit("cat.png", 42).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
        let names: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.is_empty(), "left behind: {names:?}");
        // The next commit of the same name works and gets the name.
        let mut b = dir.temp().unwrap();
        b.write(b"whole").unwrap();
        assert_eq!(b.commit("cat.png", 42).unwrap(), "cat-42.png");
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn leftover_temp_files_are_removed_at_open() {
        let root = temp_root("leftover");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join(".tmp-999-0"), b"half").unwrap();
        fs::write(root.join("kept-1.txt"), b"whole").unwrap();
        let _dir = UploadDir::open(&root).unwrap();
        assert!(!root.join(".tmp-999-0").exists());
        assert!(root.join("kept-1.txt").exists());
        let _ = fs::remove_dir_all(&root);
    }
}
