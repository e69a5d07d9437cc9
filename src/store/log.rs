//! The on-disk format of the store: checksummed JSON lines, file names, and reading a
//! file back.
//!
//! Theory of operation. Every change is one line of text:
//!
//! ```text
//! 3f2a9c01 {"seq":41,"op":"put","table":"users","key":"alice","value":{"password":"$argon2id$…"}}
//! 5d0e77b2 {"seq":42,"op":"del","table":"sessions","key":"9f86d081884c7d65"}
//! ```
//!
//! The eight hex digits are the CRC-32 (IEEE 802.3, the one `zlib`, PNG and gzip use)
//! of the JSON after the space. JSON never holds a raw newline (`serde_json` escapes
//! it inside strings), so `\n` ends a record and nothing else. A crash in the middle
//! of a write leaves a line that is cut short: its missing `\n` gives it away. CRC-32
//! catches every change confined to 32 consecutive bits, so a flipped byte is always
//! caught.
//!
//! `seq` numbers the records of the logs one after another, across log files: the
//! first record of `log-N+1` follows the last of `log-N`. A line deleted or written
//! twice in the middle of a log has intact checksums, and only the numbers give it
//! away. Writers queue records without `seq` or checksum ([`encode_put`],
//! [`encode_del`]); the committer, the only writer of the log, numbers and frames them
//! as it writes ([`frame_lines`]), so no writer waits for a number. Lines without `seq`
//! (written before the field existed) are read as the next number.
//!
//! Files in the store's directory, `N` being a generation number:
//!
//! - `log-N.jsonl`: changes, appended in order. `log-N+1` follows `log-N`.
//! - `snapshot-N.jsonl`: every live record (`put` lines, numbered 1, 2, …) as of the
//!   start of `log-N`, then an `{"op":"end","records":…,"log_seq":…}` line, `log_seq`
//!   being the number of the last record before `log-N` (so `log-N` starts at
//!   `log_seq + 1`). Written to `snapshot-N.jsonl.tmp`,
//!   fsynced, then renamed, so a snapshot under its real name is always complete.
//!   Generation 0 has no snapshot: it starts empty.
//!
//! [`scan`] reads one file and tells a *torn tail* (an incomplete last line, with no
//! `\n`: a write the crash interrupted, never reported durable) from *corruption* (a
//! complete line whose checksum or content is wrong, wherever it is: the disk changed
//! data that had been fsynced). What to do with each is the caller's choice (`db.rs`),
//! as is checking the numbers.
//!
//! Why a complete bad last line is corruption and not a torn write: the committer
//! reports a batch durable only after `fsync`, and every record of it ends in `\n`. A
//! crash can leave the last batch's bytes cut short (no `\n` at the end: torn) or, on
//! a file system that writes pages back out of order, a later page on disk before an
//! earlier one; the hole then reads as zeros, and zeros hold no `\n`, so the zeros and
//! the intact line after them make one complete bad line followed by good ones. That
//! case was, and stays, a refusal to start: the operator decides, with the file and
//! line in hand. The alternative, dropping any bad last line, silently lost an
//! acknowledged record whose last byte had flipped (issue 11).

use std::fs::File;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::StoreError;

/// Hex digits of the checksum at the start of every line (a CRC-32 is 32 bits).
pub(super) const CHECKSUM_DIGITS: usize = 8;
/// Suffix of a snapshot that is still being written.
pub(super) const TEMP_SUFFIX: &str = ".tmp";
/// Name of the lock file held while a process has the store open.
pub(super) const LOCK_FILE: &str = "LOCK";

const LOG_PREFIX: &str = "log-";
const SNAPSHOT_PREFIX: &str = "snapshot-";
const EXTENSION: &str = ".jsonl";

/// `log-00000003.jsonl`. Eight digits keep `ls` in order for a long time; the parser
/// takes any number of digits.
pub(super) fn log_name(generation: u64) -> String {
    format!("{LOG_PREFIX}{generation:08}{EXTENSION}")
}

/// `snapshot-00000003.jsonl`.
pub(super) fn snapshot_name(generation: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{generation:08}{EXTENSION}")
}

/// What a file in the store's directory is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Log(u64),
    Snapshot(u64),
    /// A snapshot a crash interrupted (`snapshot-N.jsonl.tmp`).
    Temp,
    Other,
}

pub(super) fn classify(name: &str) -> FileKind {
    if name.starts_with(SNAPSHOT_PREFIX) && name.ends_with(TEMP_SUFFIX) {
        return FileKind::Temp;
    }
    let number = |prefix: &str| -> Option<u64> {
        let digits = name.strip_prefix(prefix)?.strip_suffix(EXTENSION)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    if let Some(n) = number(LOG_PREFIX) {
        FileKind::Log(n)
    } else if let Some(n) = number(SNAPSHOT_PREFIX) {
        FileKind::Snapshot(n)
    } else {
        FileKind::Other
    }
}

/// CRC-32 lookup table for the reflected polynomial 0xEDB88320, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE), a byte at a time through the table.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// One decoded line.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    Put {
        table: String,
        key: String,
        value: Value,
    },
    Del {
        table: String,
        key: String,
    },
    /// Last line of a snapshot.
    End {
        records: u64,
        /// Number of the last log record before the log this snapshot starts
        /// (`None` in snapshots written before records were numbered).
        log_seq: Option<u64>,
    },
}

/// A decoded line: its number (`None` on lines written before records were numbered)
/// and what it says.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record {
    pub seq: Option<u64>,
    pub op: Op,
}

#[derive(Serialize)]
struct PutLine<'a> {
    op: &'static str,
    table: &'a str,
    key: &'a str,
    value: &'a Value,
}

#[derive(Serialize)]
struct DelLine<'a> {
    op: &'static str,
    table: &'a str,
    key: &'a str,
}

#[derive(Serialize)]
struct EndLine {
    op: &'static str,
    records: u64,
    log_seq: u64,
}

/// The fields any line may have; which ones must be there depends on `op`.
#[derive(Deserialize)]
struct RawLine {
    seq: Option<u64>,
    op: String,
    table: Option<String>,
    key: Option<String>,
    value: Option<Value>,
    records: Option<u64>,
    log_seq: Option<u64>,
}

/// Bytes of a line besides its JSON: the checksum, a space and the `\n`.
pub(super) const FRAME_BYTES: usize = CHECKSUM_DIGITS + 2;

/// `"seq":` and `,` around the number, in a framed line.
const SEQ_FIELD_BYTES: usize = r#""seq":,"#.len();

/// The size a record is accounted at: its line without the `"seq":N,` field, so that a
/// record has the same size whatever its number, written or replayed.
pub(super) fn record_size(unframed_json: usize) -> u64 {
    (unframed_json + FRAME_BYTES) as u64
}

/// Append a record without number or checksum (JSON and `\n`), for the committer to
/// frame; returns its [`record_size`].
fn unframed(out: &mut Vec<u8>, record: &impl Serialize) -> u64 {
    let start = out.len();
    // Writing to a Vec cannot fail, and these records (strings and `Value`s, whose
    // object keys are strings) always serialize.
    serde_json::to_writer(&mut *out, record).expect("a store record serializes to JSON");
    let len = out.len() - start;
    out.push(b'\n');
    record_size(len)
}

/// Append an unframed `put` record; returns its [`record_size`].
pub(super) fn encode_put(out: &mut Vec<u8>, table: &str, key: &str, value: &Value) -> u64 {
    unframed(
        out,
        &PutLine {
            op: "put",
            table,
            key,
            value,
        },
    )
}

/// Append an unframed `del` record; returns its [`record_size`].
pub(super) fn encode_del(out: &mut Vec<u8>, table: &str, key: &str) -> u64 {
    unframed(
        out,
        &DelLine {
            op: "del",
            table,
            key,
        },
    )
}

/// Frame one unframed JSON object (without its `\n`) as record `seq`:
/// `checksum SP {"seq":N,… LF`.
fn frame_one(out: &mut Vec<u8>, seq: u64, json: &[u8]) {
    debug_assert!(
        json.len() > 2 && json[0] == b'{',
        "a record is a JSON object"
    );
    let start = out.len();
    out.extend_from_slice(&[b'0'; CHECKSUM_DIGITS]);
    out.push(b' ');
    let json_start = out.len();
    out.extend_from_slice(br#"{"seq":"#);
    out.extend_from_slice(seq.to_string().as_bytes());
    out.push(b',');
    out.extend_from_slice(&json[1..]);
    let sum = crc32(&out[json_start..]);
    let hex = format!("{sum:08x}");
    out[start..start + CHECKSUM_DIGITS].copy_from_slice(hex.as_bytes());
    out.push(b'\n');
}

/// Frame `lines` (unframed records from [`encode_put`] and [`encode_del`], each ending
/// in `\n`) into `out`, numbering them `first`, `first + 1`, …; returns how many.
pub(super) fn frame_lines(out: &mut Vec<u8>, lines: &[u8], first: u64) -> u64 {
    let mut seq = first;
    for line in lines.split_inclusive(|&b| b == b'\n') {
        let json = line
            .strip_suffix(b"\n")
            .expect("unframed records end in \\n");
        frame_one(out, seq, json);
        seq += 1;
    }
    seq - first
}

/// Append a snapshot's closing line, numbered `seq` (one past its last record).
pub(super) fn encode_end(out: &mut Vec<u8>, seq: u64, records: u64, log_seq: u64) {
    let mut json = Vec::new();
    serde_json::to_writer(
        &mut json,
        &EndLine {
            op: "end",
            records,
            log_seq,
        },
    )
    .expect("an end line serializes");
    frame_one(out, seq, &json);
}

/// Check a line's frame (without its `\n`): the checksum, a space, and JSON whose
/// CRC-32 is that checksum. Returns the JSON.
fn check_frame(line: &[u8]) -> Result<&[u8], String> {
    if line.len() <= CHECKSUM_DIGITS || line[CHECKSUM_DIGITS] != b' ' {
        return Err(format!(
            "expected {CHECKSUM_DIGITS} hex digits of checksum and a space"
        ));
    }
    let hex = &line[..CHECKSUM_DIGITS];
    let stored = std::str::from_utf8(hex)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or_else(|| "the checksum is not hex".to_string())?;
    let json = &line[CHECKSUM_DIGITS + 1..];
    let computed = crc32(json);
    if stored != computed {
        return Err(format!(
            "checksum mismatch (line says {stored:08x}, content is {computed:08x})"
        ));
    }
    Ok(json)
}

/// Decode the JSON of a line whose frame is good.
fn decode(json: &[u8]) -> Result<Record, String> {
    let raw: RawLine = serde_json::from_slice(json).map_err(|e| format!("bad JSON: {e}"))?;
    let need = |v: Option<String>, field: &str| v.ok_or_else(|| format!("no \"{field}\""));
    let op = match raw.op.as_str() {
        "put" => Op::Put {
            table: need(raw.table, "table")?,
            key: need(raw.key, "key")?,
            value: raw.value.ok_or("no \"value\"")?,
        },
        "del" => Op::Del {
            table: need(raw.table, "table")?,
            key: need(raw.key, "key")?,
        },
        "end" => Op::End {
            records: raw.records.ok_or("no \"records\"")?,
            log_seq: raw.log_seq,
        },
        other => return Err(format!("unknown op {other:?}")),
    };
    Ok(Record { seq: raw.seq, op })
}

/// An incomplete last line: a write the crash cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TornTail {
    /// 1-based number of the line.
    pub line: u64,
    /// Its bytes, to the end of the file.
    pub bytes: u64,
    /// What was wrong with it.
    pub why: String,
}

/// What [`scan`] found besides the records it handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Scanned {
    /// Good lines.
    pub lines: u64,
    /// Length of the good prefix: where the next record should be written.
    pub good_len: u64,
    pub torn: Option<TornTail>,
}

/// Read the lines of `bytes` (the contents of `file`), calling `each(line number,
/// record size, record)` for every good line in order (the size is [`record_size`]).
///
/// - A complete line (ending in `\n`) must be good: its frame checks out and its JSON
///   is a record we know. Anything else is `Corrupt`, naming the line, wherever it is
///   (see the module doc for why even the last line).
/// - An incomplete last line (no `\n`) is the torn tail, returned in
///   [`Scanned::torn`] (the caller decides whether a torn tail is allowed there).
/// - `each` may refuse a record (a number out of sequence): `Corrupt` at that line.
pub(super) fn scan(
    file: &Path,
    bytes: &[u8],
    mut each: impl FnMut(u64, u64, Record) -> Result<(), String>,
) -> Result<Scanned, StoreError> {
    let corrupt = |line: u64, why: String| StoreError::Corrupt {
        file: file.to_path_buf(),
        line,
        why,
    };
    let mut pos = 0usize;
    let mut number = 0u64;
    while pos < bytes.len() {
        number += 1;
        let Some(end) = memchr::memchr(b'\n', &bytes[pos..]).map(|i| pos + i) else {
            // A whole record followed by one wrong byte is its `\n` damaged, not a
            // write cut short.
            let rest = &bytes[pos..];
            if rest.len() > 1 && check_frame(&rest[..rest.len() - 1]).is_ok() {
                return Err(corrupt(
                    number,
                    format!(
                        "the record is whole but ends in byte {:#04x} instead of \\n",
                        rest[rest.len() - 1]
                    ),
                ));
            }
            return Ok(Scanned {
                lines: number - 1,
                good_len: pos as u64,
                torn: Some(TornTail {
                    line: number,
                    bytes: (bytes.len() - pos) as u64,
                    why: "no end of line (a write cut short)".into(),
                }),
            });
        };
        let line = &bytes[pos..end];
        let json = check_frame(line).map_err(|why| {
            corrupt(
                number,
                format!("{why}: a complete line, so not a write cut short"),
            )
        })?;
        let record = decode(json).map_err(|why| corrupt(number, why))?;
        let seq_field = record
            .seq
            .map_or(0, |s| SEQ_FIELD_BYTES + s.to_string().len());
        let size = (line.len() + 1).saturating_sub(seq_field) as u64;
        each(number, size, record).map_err(|why| corrupt(number, why))?;
        pos = end + 1;
    }
    Ok(Scanned {
        lines: number,
        good_len: bytes.len() as u64,
        torn: None,
    })
}

/// Checks that records are numbered one after another, across files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sequence {
    /// The number the next record must carry; `None` while unknown (after lines
    /// written before records were numbered, with no number to go by).
    pub next: Option<u64>,
}

impl Sequence {
    pub(super) fn starting_at(first: u64) -> Sequence {
        Sequence { next: Some(first) }
    }

    /// Take the next record's number; a gap or a repeat is refused with what it means.
    pub(super) fn check(&mut self, seq: Option<u64>) -> Result<(), String> {
        match (seq, self.next) {
            (Some(s), Some(want)) if s < want => {
                return Err(format!(
                    "record {s} repeats or goes back (expected record {want}): a line \
                     written twice or copied in"
                ));
            }
            (Some(s), Some(want)) if s > want => {
                let missing = if s - want == 1 {
                    format!("record {want} is")
                } else {
                    format!("records {want} to {} are", s - 1)
                };
                return Err(format!(
                    "this is record {s}, but {missing} missing before it: lines deleted"
                ));
            }
            _ => {}
        }
        self.next = match seq {
            Some(s) => s.checked_add(1),
            None => self.next.and_then(|n| n.checked_add(1)),
        };
        Ok(())
    }
}

/// How deep `value` nests (0 for a scalar, 1 for `[]`, `{}` or an array of scalars,
/// and so on) and how many values it holds, itself included. Iterative, so a value too
/// deep for a recursive walk (or for `serde_json` to read back) is measured without
/// overflowing the stack.
pub(crate) fn shape(value: &Value) -> (usize, usize) {
    let (mut deepest, mut nodes) = (0, 0);
    let mut stack = vec![(value, 0usize)];
    while let Some((v, d)) = stack.pop() {
        nodes += 1;
        match v {
            Value::Array(a) => {
                deepest = deepest.max(d + 1);
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            Value::Object(o) => {
                deepest = deepest.max(d + 1);
                stack.extend(o.values().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    (deepest, nodes)
}

/// fsync a directory, so names created, renamed or removed in it survive a crash.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Name of the temporary file a snapshot is written to.
pub(super) fn snapshot_temp_name(generation: u64) -> String {
    format!("{}{TEMP_SUFFIX}", snapshot_name(generation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value every CRC-32 (IEEE) implementation publishes.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// Frame unframed records as the committer does, from record 1.
    fn framed(unframed: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        frame_lines(&mut out, unframed, 1);
        out
    }

    /// Line number, size and record of each good line.
    type Seen = Vec<(u64, u64, Record)>;

    fn records(bytes: &[u8]) -> Result<(Scanned, Seen), StoreError> {
        let mut seen = Vec::new();
        let scanned = scan(Path::new("t"), bytes, |n, size, r| {
            seen.push((n, size, r));
            Ok(())
        })?;
        Ok((scanned, seen))
    }

    #[test]
    fn lines_round_trip() {
        let mut queued = Vec::new();
        let a = encode_put(
            &mut queued,
            "users",
            "al\nice",
            &json!({"p": "x\ny", "n": [1, 2]}),
        );
        let b = encode_del(&mut queued, "sessions", "k");
        assert_eq!(queued.len() as u64 + 2 * (FRAME_BYTES as u64 - 1), a + b);
        let mut out = Vec::new();
        assert_eq!(frame_lines(&mut out, &queued, 41), 2);
        encode_end(&mut out, 43, 7, 40);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 3);
        assert!(out.windows(9).any(|w| w == br#"{"seq":41"#), "{out:?}");
        let (scanned, seen) = records(&out).unwrap();
        assert_eq!(scanned.lines, 3);
        assert_eq!(scanned.good_len, out.len() as u64);
        assert_eq!(scanned.torn, None);
        // Replayed sizes equal written ones, whatever the record's number.
        assert_eq!(
            seen[0],
            (
                1,
                a,
                Record {
                    seq: Some(41),
                    op: Op::Put {
                        table: "users".into(),
                        key: "al\nice".into(),
                        value: json!({"p": "x\ny", "n": [1, 2]})
                    }
                }
            )
        );
        assert_eq!(seen[1].1, b);
        assert_eq!(
            seen[1].2,
            Record {
                seq: Some(42),
                op: Op::Del {
                    table: "sessions".into(),
                    key: "k".into()
                }
            }
        );
        assert_eq!(
            seen[2].2,
            Record {
                seq: Some(43),
                op: Op::End {
                    records: 7,
                    log_seq: Some(40)
                }
            }
        );
    }

    #[test]
    fn lines_without_numbers_still_read() {
        // A line as written before records were numbered.
        let json = br#"{"op":"put","table":"t","key":"a","value":1}"#;
        let mut line = format!("{:08x} ", crc32(json)).into_bytes();
        line.extend_from_slice(json);
        line.push(b'\n');
        let (_, seen) = records(&line).unwrap();
        assert_eq!(seen[0].2.seq, None);
        assert_eq!(seen[0].1, line.len() as u64);
    }

    #[test]
    fn only_an_incomplete_last_line_is_a_torn_tail() {
        let mut queued = Vec::new();
        encode_put(&mut queued, "t", "a", &json!(1));
        encode_put(&mut queued, "t", "b", &json!(2));
        let out = framed(&queued);
        let second = out.iter().position(|&b| b == b'\n').unwrap() + 1;
        // Cut anywhere in the last line: torn, the good prefix kept.
        for cut in second + 1..out.len() {
            let (scanned, seen) = records(&out[..cut]).unwrap();
            assert_eq!(seen.len(), 1, "cut at {cut}");
            assert_eq!(scanned.good_len, second as u64);
            assert_eq!(scanned.torn.as_ref().unwrap().line, 2);
        }
        // A byte flipped in the complete last line: corruption, not a torn write.
        for pos in second..out.len() {
            let mut bad = out.clone();
            bad[pos] ^= 0x01;
            match records(&bad) {
                Err(StoreError::Corrupt { line: 2, .. }) => {}
                other => panic!("flip at {pos}: {other:?}"),
            }
        }
        // And in the first line, with a good one after it.
        let mut bad = out.clone();
        bad[12] ^= 0x01;
        match records(&bad) {
            Err(StoreError::Corrupt { line, why, .. }) => {
                assert_eq!(line, 1);
                assert!(why.contains("checksum mismatch"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_good_frame_around_an_unknown_record_is_corruption_even_at_the_end() {
        let out = framed(b"{\"op\":\"frobnicate\"}\n");
        match records(&out) {
            Err(StoreError::Corrupt { line: 1, why, .. }) => assert!(why.contains("frobnicate")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sequence_refuses_gaps_and_repeats() {
        let mut s = Sequence::starting_at(5);
        s.check(Some(5)).unwrap();
        s.check(None).unwrap();
        s.check(Some(7)).unwrap();
        let repeat = s.check(Some(7)).unwrap_err();
        assert!(repeat.contains("record 7 repeats"), "{repeat}");
        let gap = s.check(Some(10)).unwrap_err();
        assert!(gap.contains("records 8 to 9 are missing"), "{gap}");
        let one = Sequence::starting_at(8).check(Some(9)).unwrap_err();
        assert!(one.contains("record 8 is missing"), "{one}");
        // Unknown start (old data): the first number sets it.
        let mut old = Sequence { next: None };
        old.check(None).unwrap();
        old.check(Some(100)).unwrap();
        assert_eq!(old.next, Some(101));
    }

    #[test]
    fn shape_counts_depth_and_values() {
        assert_eq!(shape(&json!(1)), (0, 1));
        assert_eq!(shape(&json!([])), (1, 1));
        assert_eq!(shape(&json!({"a": [1, {"b": []}]})), (4, 5));
        let mut deep = json!(0);
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(shape(&deep).0, 100_000);
        // Dropping it recursively would overflow the stack: take it apart by hand.
        while let Value::Array(mut a) = deep {
            deep = a.pop().unwrap();
        }
    }

    #[test]
    fn file_names_round_trip() {
        assert_eq!(classify(&log_name(3)), FileKind::Log(3));
        assert_eq!(classify(&snapshot_name(12)), FileKind::Snapshot(12));
        assert_eq!(classify("snapshot-00000012.jsonl.tmp"), FileKind::Temp);
        assert_eq!(
            classify("log-123456789012.jsonl"),
            FileKind::Log(123_456_789_012)
        );
        assert_eq!(classify("log-.jsonl"), FileKind::Other);
        assert_eq!(classify("log-+1.jsonl"), FileKind::Other);
        assert_eq!(classify(LOCK_FILE), FileKind::Other);
        assert_eq!(classify("uploads"), FileKind::Other);
    }
}
