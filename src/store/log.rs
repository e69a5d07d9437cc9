//! The on-disk format of the store: checksummed JSON lines, file names, and reading a
//! file back.
//!
//! Theory of operation. Every change is one line of text:
//!
//! ```text
//! 3f2a9c01 {"op":"put","table":"users","key":"alice","value":{"password":"$argon2id$…"}}
//! 5d0e77b2 {"op":"del","table":"sessions","key":"9f86d081884c7d65"}
//! ```
//!
//! The eight hex digits are the CRC-32 (IEEE 802.3, the one `zlib`, PNG and gzip use)
//! of the JSON after the space. JSON never holds a raw newline (`serde_json` escapes
//! it inside strings), so `\n` ends a record and nothing else. A crash in the middle
//! of a write leaves a line that is cut short or filled with zeros: its checksum (or
//! its missing `\n`) gives it away. CRC-32 catches every change confined to 32
//! consecutive bits, so a flipped byte is always caught.
//!
//! Files in the store's directory, `N` being a generation number:
//!
//! - `log-N.jsonl`: changes, appended in order. `log-N+1` follows `log-N`.
//! - `snapshot-N.jsonl`: every live record (`put` lines) as of the start of `log-N`,
//!   then an `{"op":"end","records":…}` line. Written to `snapshot-N.jsonl.tmp`,
//!   fsynced, then renamed, so a snapshot under its real name is always complete.
//!   Generation 0 has no snapshot: it starts empty.
//!
//! [`scan`] reads one file and tells a *torn tail* (bad lines at the end with no good
//! line after them: a write the crash interrupted, never reported durable) from
//! *corruption* (a bad line followed by a good one: the disk changed data that had been
//! fsynced). What to do with each is the caller's choice (`db.rs`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::db::StoreError;

/// Hex digits of the checksum at the start of every line (a CRC-32 is 32 bits).
pub const CHECKSUM_DIGITS: usize = 8;
/// Suffix of a snapshot that is still being written.
pub const TEMP_SUFFIX: &str = ".tmp";
/// Name of the lock file held while a process has the store open.
pub const LOCK_FILE: &str = "LOCK";

const LOG_PREFIX: &str = "log-";
const SNAPSHOT_PREFIX: &str = "snapshot-";
const EXTENSION: &str = ".jsonl";

/// `log-00000003.jsonl`. Eight digits keep `ls` in order for a long time; the parser
/// takes any number of digits.
pub fn log_name(generation: u64) -> String {
    format!("{LOG_PREFIX}{generation:08}{EXTENSION}")
}

/// `snapshot-00000003.jsonl`.
pub fn snapshot_name(generation: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{generation:08}{EXTENSION}")
}

/// What a file in the store's directory is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Log(u64),
    Snapshot(u64),
    /// A snapshot a crash interrupted (`snapshot-N.jsonl.tmp`).
    Temp,
    Other,
}

pub fn classify(name: &str) -> FileKind {
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
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// One decoded line.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
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
    },
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
}

/// The fields any line may have; which ones must be there depends on `op`.
#[derive(Deserialize)]
struct RawLine {
    op: String,
    table: Option<String>,
    key: Option<String>,
    value: Option<Value>,
    records: Option<u64>,
}

/// Append one framed line (`checksum SP json LF`) to `out`; returns its length.
fn frame(out: &mut Vec<u8>, record: &impl Serialize) -> usize {
    let start = out.len();
    out.extend_from_slice(&[b'0'; CHECKSUM_DIGITS]);
    out.push(b' ');
    let json_start = out.len();
    // Writing to a Vec cannot fail, and these records (strings and `Value`s, whose
    // object keys are strings) always serialize.
    serde_json::to_writer(&mut *out, record).expect("a store record serializes to JSON");
    let sum = crc32(&out[json_start..]);
    let hex = format!("{sum:08x}");
    out[start..start + CHECKSUM_DIGITS].copy_from_slice(hex.as_bytes());
    out.push(b'\n');
    out.len() - start
}

/// Append a `put` line; returns its length in bytes.
pub fn encode_put(out: &mut Vec<u8>, table: &str, key: &str, value: &Value) -> usize {
    frame(
        out,
        &PutLine {
            op: "put",
            table,
            key,
            value,
        },
    )
}

/// Append a `del` line; returns its length in bytes.
pub fn encode_del(out: &mut Vec<u8>, table: &str, key: &str) -> usize {
    frame(
        out,
        &DelLine {
            op: "del",
            table,
            key,
        },
    )
}

/// Append a snapshot's closing line.
pub fn encode_end(out: &mut Vec<u8>, records: u64) -> usize {
    frame(out, &EndLine { op: "end", records })
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
fn decode(json: &[u8]) -> Result<Op, String> {
    let raw: RawLine = serde_json::from_slice(json).map_err(|e| format!("bad JSON: {e}"))?;
    let need = |v: Option<String>, field: &str| v.ok_or_else(|| format!("no \"{field}\""));
    match raw.op.as_str() {
        "put" => Ok(Op::Put {
            table: need(raw.table, "table")?,
            key: need(raw.key, "key")?,
            value: raw.value.ok_or("no \"value\"")?,
        }),
        "del" => Ok(Op::Del {
            table: need(raw.table, "table")?,
            key: need(raw.key, "key")?,
        }),
        "end" => Ok(Op::End {
            records: raw.records.ok_or("no \"records\"")?,
        }),
        other => Err(format!("unknown op {other:?}")),
    }
}

/// Bad lines at the end of a file, with no good line after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// 1-based number of the first bad line.
    pub line: u64,
    /// Bytes from that line to the end of the file.
    pub bytes: u64,
    /// What was wrong with that line.
    pub why: String,
}

/// What [`scan`] found besides the records it handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Good lines.
    pub lines: u64,
    /// Length of the good prefix: where the next record should be written.
    pub good_len: u64,
    pub torn: Option<TornTail>,
}

/// Read the lines of `bytes` (the contents of `file`), calling `each(line number,
/// line length including its \n, op)` for every good line in order.
///
/// - A line is good when its frame checks out and it ends with `\n`; a good frame whose
///   JSON is not a record we know is corruption wherever it is (no crash writes a
///   correct checksum over wrong content).
/// - The first bad line: if any good line follows it, `Corrupt` naming its line
///   number; otherwise it and what follows are the torn tail, returned in
///   [`Scanned::torn`] (the caller decides whether a torn tail is allowed there).
pub fn scan(
    file: &Path,
    bytes: &[u8],
    mut each: impl FnMut(u64, usize, Op) -> Result<(), String>,
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
        let (line, next) = match bytes[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => (&bytes[pos..pos + i], Some(pos + i + 1)),
            None => (&bytes[pos..], None),
        };
        let framed = match next {
            None => Err("no end of line (a write cut short)".to_string()),
            Some(_) => check_frame(line),
        };
        match framed {
            Ok(json) => {
                let op = decode(json).map_err(|why| corrupt(number, why))?;
                let len = line.len() + 1;
                each(number, len, op).map_err(|why| corrupt(number, why))?;
                pos = next.unwrap_or(bytes.len());
            }
            Err(why) => {
                if let Some(after) = first_good_line_after(bytes, next) {
                    return Err(corrupt(
                        number,
                        format!("{why}, yet line {} after it is intact", number + after),
                    ));
                }
                return Ok(Scanned {
                    lines: number - 1,
                    good_len: pos as u64,
                    torn: Some(TornTail {
                        line: number,
                        bytes: (bytes.len() - pos) as u64,
                        why,
                    }),
                });
            }
        }
    }
    Ok(Scanned {
        lines: number,
        good_len: bytes.len() as u64,
        torn: None,
    })
}

/// How many lines after the bad one the first good line is, if there is one.
fn first_good_line_after(bytes: &[u8], next: Option<usize>) -> Option<u64> {
    let mut pos = next?;
    let mut count = 0;
    while pos < bytes.len() {
        count += 1;
        let end = pos + bytes[pos..].iter().position(|&b| b == b'\n')?;
        if check_frame(&bytes[pos..end]).is_ok() {
            return Some(count);
        }
        pos = end + 1;
    }
    None
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

    #[test]
    fn lines_round_trip() {
        let mut out = Vec::new();
        let a = encode_put(
            &mut out,
            "users",
            "al\nice",
            &json!({"p": "x\ny", "n": [1, 2]}),
        );
        let b = encode_del(&mut out, "sessions", "k");
        let c = encode_end(&mut out, 7);
        assert_eq!(out.len(), a + b + c);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 3);
        let mut ops = Vec::new();
        let scanned = scan(Path::new("t"), &out, |n, len, op| {
            ops.push((n, len, op));
            Ok(())
        })
        .unwrap();
        assert_eq!(scanned.lines, 3);
        assert_eq!(scanned.good_len, out.len() as u64);
        assert_eq!(scanned.torn, None);
        assert_eq!(
            ops[0],
            (
                1,
                a,
                Op::Put {
                    table: "users".into(),
                    key: "al\nice".into(),
                    value: json!({"p": "x\ny", "n": [1, 2]})
                }
            )
        );
        assert_eq!(
            ops[1].2,
            Op::Del {
                table: "sessions".into(),
                key: "k".into()
            }
        );
        assert_eq!(ops[2].2, Op::End { records: 7 });
    }

    #[test]
    fn a_bad_last_line_is_a_torn_tail_and_a_bad_middle_line_is_corruption() {
        let mut out = Vec::new();
        encode_put(&mut out, "t", "a", &json!(1));
        let second = out.len();
        encode_put(&mut out, "t", "b", &json!(2));
        let mut torn = out.clone();
        torn[second + 20] ^= 0x01;
        let scanned = scan(Path::new("t"), &torn, |_, _, _| Ok(())).unwrap();
        assert_eq!(scanned.lines, 1);
        assert_eq!(scanned.good_len, second as u64);
        assert_eq!(scanned.torn.as_ref().unwrap().line, 2);

        encode_put(&mut torn, "t", "c", &json!(3));
        match scan(Path::new("t"), &torn, |_, _, _| Ok(())) {
            Err(StoreError::Corrupt { line, why, .. }) => {
                assert_eq!(line, 2);
                assert!(why.contains("checksum mismatch"), "{why}");
                assert!(why.contains("line 3"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_good_frame_around_an_unknown_record_is_corruption_even_at_the_end() {
        let mut out = Vec::new();
        frame(&mut out, &json!({"op": "frobnicate"}));
        match scan(Path::new("t"), &out, |_, _, _| Ok(())) {
            Err(StoreError::Corrupt { line: 1, why, .. }) => assert!(why.contains("frobnicate")),
            other => panic!("{other:?}"),
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
