//! Command-line flags and `WIREPOST_*` environment variables, into one [`Config`].
//!
//! Every flag `--some-name VALUE` (or `--some-name=VALUE`) can also come from the
//! environment variable `WIREPOST_SOME_NAME`; a flag wins over the variable, which wins
//! over the default. Sizes take an optional suffix (`K`, `M`, `G`, also `KiB`…: powers
//! of 1024); durations are seconds and may have a fraction (`0.5`).
//!
//! The flags are one table, [`FLAGS`]: each entry has the name, what its value is, a
//! line of help, how its default reads in [`Config::default`] and how a value is set
//! into the [`Config`]. Parsing, `--help` ([`usage`]) and the variables' names
//! ([`Flag::var`]) all come from it, so a flag can't be parsed yet missing from the
//! help, or shown with a default it does not have.

use crate::http::head::HeadLimits;
use std::path::PathBuf;
use std::time::Duration;

/// Seconds a line of the request head may take (408 past it): per *line*, so a request
/// typed by hand into `nc` at human speed is served; SPEC "Protocol": 30 s.
pub const HEADER_TIMEOUT_SECS: f64 = 30.0;
/// Seconds the whole head may take from its first byte, however steadily its lines come
/// (a client sending one header line every 29 s must still stop); SPEC: 300 s.
pub const HEADER_TOTAL_SECS: f64 = 300.0;
/// Seconds an announced body may go without a byte arriving (408 past it); SPEC: 30 s.
pub const BODY_TIMEOUT_SECS: f64 = 30.0;
/// Seconds an idle keep-alive connection is kept (and a stalled one waited for); SPEC: 60 s.
pub const IDLE_TIMEOUT_SECS: f64 = 60.0;
/// Open connections across all workers; past it new ones get a 503 and are closed.
/// nginx's default is 512 per worker; we take more, as each of ours costs ~40 KiB
/// at most in buffers.
pub const MAX_CONNECTIONS: usize = 10_000;
/// Seconds a stopping server (SIGTERM, Ctrl-C) gives requests in flight to finish
/// before it closes what is left (systemd waits 90 s before it kills; nginx waits
/// forever unless told). Storage is flushed after, whatever happened.
pub const DRAIN_TIMEOUT_SECS: f64 = 10.0;
/// Largest buffered (urlencoded/JSON) request body; SPEC: 1 MiB, like Django's
/// `DATA_UPLOAD_MAX_MEMORY_SIZE`... rounded to a power of two.
pub const MAX_BODY: u64 = 1 << 20;
/// Largest upload; SPEC: 1 GiB.
pub const MAX_UPLOAD: u64 = 1 << 30;
/// Most files in one upload: 100, like Django's `DATA_UPLOAD_MAX_NUMBER_FILES`.
pub const MAX_UPLOAD_FILES: usize = 100;
/// Live sessions at most; SPEC: 100,000 (past it the least recently used anonymous
/// session goes).
pub const MAX_SESSIONS: usize = 100_000;
/// Seconds between two purges of expired sessions (Django leaves it to a cron job
/// running `clearsessions`; we run it ourselves).
pub const PURGE_EVERY_SECS: f64 = 60.0;

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: String,
    pub workers: usize,
    pub www: PathBuf,
    pub data: PathBuf,
    /// `--docs`: the Markdown pages `/docs/` serves.
    pub docs: PathBuf,
    pub max_body: u64,
    pub max_upload: u64,
    pub max_upload_files: usize,
    pub trace: bool,
    /// `--wire-log`: record every exchange for `/wire/` and the pages' panel.
    pub wire_log: bool,
    /// `--header-timeout`: longest wait for the next line of a head.
    pub header_timeout: Duration,
    /// `--header-total`: longest a whole head may take since its first byte.
    pub header_total: Duration,
    /// `--body-timeout`: longest an announced body may send no byte.
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub drain_timeout: Duration,
    pub max_connections: usize,
    pub limits: HeadLimits,
    pub max_sessions: usize,
    pub purge_every: Duration,
    /// `--allowed-host`: names a browser request's `Host` may have besides `localhost`,
    /// `127.0.0.1`, `[::1]` and the listen address (lowercase; `*` allows any).
    pub allowed_hosts: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:8000".into(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            www: "www".into(),
            data: "data".into(),
            docs: "docs".into(),
            max_body: MAX_BODY,
            max_upload: MAX_UPLOAD,
            max_upload_files: MAX_UPLOAD_FILES,
            trace: false,
            wire_log: true,
            header_timeout: Duration::from_secs_f64(HEADER_TIMEOUT_SECS),
            header_total: Duration::from_secs_f64(HEADER_TOTAL_SECS),
            body_timeout: Duration::from_secs_f64(BODY_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs_f64(IDLE_TIMEOUT_SECS),
            drain_timeout: Duration::from_secs_f64(DRAIN_TIMEOUT_SECS),
            max_connections: MAX_CONNECTIONS,
            limits: HeadLimits::default(),
            max_sessions: MAX_SESSIONS,
            purge_every: Duration::from_secs_f64(PURGE_EVERY_SECS),
            allowed_hosts: Vec::new(),
        }
    }
}

/// What went wrong reading flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Help,
    Unknown(String),
    MissingValue(String),
    BadValue { name: String, value: String },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Help => f.write_str(&usage()),
            ConfigError::Unknown(n) => write!(f, "unknown flag --{n} (see --help)"),
            ConfigError::MissingValue(n) => write!(f, "--{n} needs a value"),
            ConfigError::BadValue { name, value } => {
                write!(f, "--{name}: cannot use {value:?}")
            }
        }
    }
}

/// Parse a size: `1048576`, `1M`, `1MiB`, `64k`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, suffix) = s.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let mult: u64 = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A size as `--help` shows it: `1G`, `1M`, `8K`, or bytes.
fn show_size(n: u64) -> String {
    match n {
        0 => "0".into(),
        n if n % (1 << 30) == 0 => format!("{}G", n >> 30),
        n if n % (1 << 20) == 0 => format!("{}M", n >> 20),
        n if n % (1 << 10) == 0 => format!("{}K", n >> 10),
        n => n.to_string(),
    }
}

fn parse_secs(s: &str) -> Option<Duration> {
    let v: f64 = s.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then(|| Duration::from_secs_f64(v))
}

/// A duration as `--help` shows it: seconds, with a fraction only if it has one.
fn show_secs(d: Duration) -> String {
    d.as_secs_f64().to_string()
}

/// A count: a whole number above 0.
fn parse_count(s: &str) -> Option<usize> {
    s.trim().parse::<usize>().ok().filter(|&n| n > 0)
}

/// An `--allowed-host` value: a host name or address without port, lowercase; `*`;
/// or `.name` (the name and every subdomain, as in Django's `ALLOWED_HOSTS`).
fn parse_allowed_host(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_lowercase();
    let ok = !s.is_empty()
        && !s.contains('/')
        && !s.contains(',')
        && !s
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
    ok.then_some(s)
}

/// How a flag takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--name VALUE` or `--name=VALUE`; the last one given wins.
    Value,
    /// `--name` alone means on; `--name=0` (`false`, `no`, `off`) means off.
    Switch,
    /// May be given many times, each adding to a list. Its variable holds a
    /// comma-separated list, and any flag replaces the variable's list as a whole.
    Repeated,
}

/// One flag: everything parsing, `--help` and the `WIREPOST_*` variables are made of.
pub struct Flag {
    /// `--name`; the variable is `WIREPOST_NAME` (see [`Flag::var`]).
    pub name: &'static str,
    /// What the value is, in `--help` (`""` for a switch).
    pub metavar: &'static str,
    /// One line for `--help` (more lines are indented under it).
    pub help: &'static str,
    pub kind: Kind,
    /// The default as `--help` shows it, read from [`Config::default`]; `None` hides it.
    pub default: fn(&Config) -> Option<String>,
    /// Set the value into the config; `None` if the value is not usable.
    pub apply: fn(&mut Config, &str) -> Option<()>,
}

impl Flag {
    /// The environment variable: `WIREPOST_` and the name, uppercase, `-` as `_`.
    pub fn var(&self) -> String {
        format!(
            "WIREPOST_{}",
            self.name.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// Every flag, in `--help` order. Adding a flag is adding an entry here (and a field
/// with its default in [`Config`]).
pub static FLAGS: &[Flag] = &[
    Flag {
        name: "addr",
        metavar: "HOST:PORT",
        help: "listen address",
        kind: Kind::Value,
        default: |c| Some(c.addr.clone()),
        apply: |c, v| {
            c.addr = v.to_string();
            Some(())
        },
    },
    Flag {
        name: "workers",
        metavar: "N",
        help: "event-loop threads",
        kind: Kind::Value,
        default: |c| Some(format!("cores: {}", c.workers)),
        apply: |c, v| {
            c.workers = parse_count(v)?;
            Some(())
        },
    },
    Flag {
        name: "www",
        metavar: "DIR",
        help: "templates and static files",
        kind: Kind::Value,
        default: |c| Some(c.www.display().to_string()),
        apply: |c, v| {
            c.www = v.into();
            Some(())
        },
    },
    Flag {
        name: "data",
        metavar: "DIR",
        help: "runtime state",
        kind: Kind::Value,
        default: |c| Some(c.data.display().to_string()),
        apply: |c, v| {
            c.data = v.into();
            Some(())
        },
    },
    Flag {
        name: "docs",
        metavar: "DIR",
        help: "the Markdown pages served at /docs/ (read at each request)",
        kind: Kind::Value,
        default: |c| Some(c.docs.display().to_string()),
        apply: |c, v| {
            c.docs = v.into();
            Some(())
        },
    },
    Flag {
        name: "max-body",
        metavar: "BYTES",
        help: "largest form/JSON body",
        kind: Kind::Value,
        default: |c| Some(show_size(c.max_body)),
        apply: |c, v| {
            c.max_body = parse_size(v)?;
            Some(())
        },
    },
    Flag {
        name: "max-upload",
        metavar: "BYTES",
        help: "largest upload",
        kind: Kind::Value,
        default: |c| Some(show_size(c.max_upload)),
        apply: |c, v| {
            c.max_upload = parse_size(v)?;
            Some(())
        },
    },
    Flag {
        name: "max-upload-files",
        metavar: "N",
        help: "files in one upload at most",
        kind: Kind::Value,
        default: |c| Some(c.max_upload_files.to_string()),
        apply: |c, v| {
            c.max_upload_files = parse_count(v)?;
            Some(())
        },
    },
    Flag {
        name: "trace",
        metavar: "",
        help: "print every connection's bytes in and out",
        kind: Kind::Switch,
        default: |_| None,
        apply: |c, v| {
            c.trace = !matches!(v, "0" | "false" | "no" | "off" | "");
            Some(())
        },
    },
    Flag {
        name: "wire-log",
        metavar: "",
        help: "record the exchanges shown at /wire/ (--wire-log=off: not)",
        kind: Kind::Switch,
        default: |c| Some(if c.wire_log { "on" } else { "off" }.into()),
        apply: |c, v| {
            c.wire_log = !matches!(v, "0" | "false" | "no" | "off" | "");
            Some(())
        },
    },
    Flag {
        name: "header-timeout",
        metavar: "SECS",
        help: "408 if a line of a head takes longer",
        kind: Kind::Value,
        default: |c| Some(show_secs(c.header_timeout)),
        apply: |c, v| {
            c.header_timeout = parse_secs(v)?;
            Some(())
        },
    },
    Flag {
        name: "header-total",
        metavar: "SECS",
        help: "408 if a whole head takes longer",
        kind: Kind::Value,
        default: |c| Some(show_secs(c.header_total)),
        apply: |c, v| {
            c.header_total = parse_secs(v)?;
            Some(())
        },
    },
    Flag {
        name: "body-timeout",
        metavar: "SECS",
        help: "408 if a body sends no byte for",
        kind: Kind::Value,
        default: |c| Some(show_secs(c.body_timeout)),
        apply: |c, v| {
            c.body_timeout = parse_secs(v)?;
            Some(())
        },
    },
    Flag {
        name: "idle-timeout",
        metavar: "SECS",
        help: "close idle connections after",
        kind: Kind::Value,
        default: |c| Some(show_secs(c.idle_timeout)),
        apply: |c, v| {
            c.idle_timeout = parse_secs(v)?;
            Some(())
        },
    },
    Flag {
        name: "drain-timeout",
        metavar: "SECS",
        help: "on SIGTERM, wait for requests",
        kind: Kind::Value,
        default: |c| Some(show_secs(c.drain_timeout)),
        apply: |c, v| {
            c.drain_timeout = parse_secs(v)?;
            Some(())
        },
    },
    Flag {
        name: "max-connections",
        metavar: "N",
        help: "open connections at most",
        kind: Kind::Value,
        default: |c| Some(c.max_connections.to_string()),
        apply: |c, v| {
            c.max_connections = parse_count(v)?;
            Some(())
        },
    },
    Flag {
        name: "max-request-line",
        metavar: "BYTES",
        help: "414 past it",
        kind: Kind::Value,
        default: |c| Some(show_size(c.limits.max_request_line as u64)),
        apply: |c, v| {
            c.limits.max_request_line = usize::try_from(parse_size(v)?).ok()?;
            Some(())
        },
    },
    Flag {
        name: "max-header-section",
        metavar: "BYTES",
        help: "431 past it",
        kind: Kind::Value,
        default: |c| Some(show_size(c.limits.max_header_section as u64)),
        apply: |c, v| {
            c.limits.max_header_section = usize::try_from(parse_size(v)?).ok()?;
            Some(())
        },
    },
    Flag {
        name: "max-headers",
        metavar: "N",
        help: "431 past it",
        kind: Kind::Value,
        default: |c| Some(c.limits.max_headers.to_string()),
        apply: |c, v| {
            c.limits.max_headers = parse_count(v)?;
            Some(())
        },
    },
    Flag {
        name: "max-sessions",
        metavar: "N",
        help: "live sessions at most",
        kind: Kind::Value,
        default: |c| Some(c.max_sessions.to_string()),
        apply: |c, v| {
            c.max_sessions = parse_count(v)?;
            Some(())
        },
    },
    Flag {
        name: "purge-every",
        metavar: "SECS",
        help: "purge expired sessions every",
        kind: Kind::Value,
        default: |c| Some(show_secs(c.purge_every)),
        apply: |c, v| {
            c.purge_every = parse_secs(v)?;
            Some(())
        },
    },
    Flag {
        name: "allowed-host",
        metavar: "NAME",
        help: "a Host a browser may use besides localhost, 127.0.0.1,\n\
               [::1] and the listen address; repeatable, * for any,\n\
               .example.com for it and its subdomains (the variable\n\
               takes a comma-separated list)",
        kind: Kind::Repeated,
        default: |_| None,
        apply: |c, v| {
            c.allowed_hosts.push(parse_allowed_host(v)?);
            Some(())
        },
    },
];

/// The text of `--help`, made from [`FLAGS`] and [`Config::default`].
pub fn usage() -> String {
    let defaults = Config::default();
    let flag_text = |f: &Flag| format!("  --{} {}", f.name, f.metavar);
    // Columns: help after the longest flag, defaults after the longest help with one.
    let help_column = FLAGS.iter().map(|f| flag_text(f).len()).max().unwrap_or(0) + 1;
    let default_column = FLAGS
        .iter()
        .filter(|f| (f.default)(&defaults).is_some())
        .map(|f| help_column + f.help.lines().next().unwrap_or("").len() + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::from(
        "usage: wirepost [FLAGS]\n\n\
         Each flag can also be set by the environment variable WIREPOST_<NAME>\n\
         (e.g. WIREPOST_ADDR=0.0.0.0:8000); a flag wins over the variable.\n\n",
    );
    for flag in FLAGS {
        let mut line = flag_text(flag);
        let mut help = flag.help.lines();
        let first = help.next().unwrap_or("");
        pad(&mut line, help_column);
        line.push_str(first);
        if let Some(default) = (flag.default)(&defaults) {
            pad(&mut line, default_column);
            line.push_str(&format!("[{default}]"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
        for more in help {
            out.push_str(&" ".repeat(help_column));
            out.push_str(more.trim());
            out.push('\n');
        }
    }
    out.push_str(
        "\nLogging: RUST_LOG=info (default) logs one line per request; RUST_LOG=warn none.\n\
         Stopping: SIGTERM or Ctrl-C stops accepting, closes idle connections, lets requests in\n\
         flight finish (up to --drain-timeout), flushes storage and exits 0; a second signal\n\
         exits at once.\n",
    );
    out
}

/// Pad `line` with spaces to `column`.
fn pad(line: &mut String, column: usize) {
    let n = column.saturating_sub(line.len());
    line.push_str(&" ".repeat(n));
}

impl Config {
    /// Read the flags (`args` without the program name) over the environment.
    pub fn from_args_and_env(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        // (flag, value, from a variable), in the order to apply: variables, then flags.
        let mut values: Vec<(&Flag, String, bool)> = Vec::new();
        for flag in FLAGS {
            if let Some(v) = env(&flag.var()) {
                values.push((flag, v, true));
            }
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Err(ConfigError::Help);
            }
            let Some(given) = arg.strip_prefix("--") else {
                return Err(ConfigError::Unknown(arg));
            };
            let (name, inline) = match given.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (given, None),
            };
            let Some(flag) = FLAGS.iter().find(|f| f.name == name) else {
                return Err(ConfigError::Unknown(name.to_string()));
            };
            let value = match (flag.kind, inline) {
                (_, Some(v)) => v,
                (Kind::Switch, None) => "1".into(),
                (_, None) => args
                    .next()
                    .ok_or_else(|| ConfigError::MissingValue(name.to_string()))?,
            };
            if flag.kind == Kind::Repeated {
                // The first flag drops what the variable gave.
                values.retain(|(f, _, from_env)| !(f.name == flag.name && *from_env));
            }
            values.push((flag, value, false));
        }
        let mut c = Config::default();
        for (flag, value, from_env) in values {
            let bad = || ConfigError::BadValue {
                name: flag.name.to_string(),
                value: value.clone(),
            };
            if flag.kind == Kind::Repeated && from_env {
                for one in value.split(',').filter(|v| !v.trim().is_empty()) {
                    (flag.apply)(&mut c, one).ok_or_else(bad)?;
                }
            } else {
                (flag.apply)(&mut c, &value).ok_or_else(bad)?;
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::head::{MAX_HEADER_SECTION, MAX_HEADERS, MAX_REQUEST_LINE};

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_args_and_env(args.iter().map(|s| s.to_string()), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_match_spec() {
        let c = parse(&[], &[]).unwrap();
        assert_eq!(c.addr, "127.0.0.1:8000");
        assert_eq!(c.max_body, 1 << 20);
        assert_eq!(c.max_upload, 1 << 30);
        assert_eq!(c.max_upload_files, 100);
        assert_eq!(
            parse(&["--max-upload-files", "3"], &[])
                .unwrap()
                .max_upload_files,
            3
        );
        assert!(parse(&["--max-upload-files", "0"], &[]).is_err());
        assert_eq!(c.header_timeout, Duration::from_secs(30));
        assert_eq!(c.header_total, Duration::from_secs(300));
        assert_eq!(c.body_timeout, Duration::from_secs(30));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.drain_timeout, Duration::from_secs(10));
        assert_eq!(
            parse(&["--drain-timeout", "0.5"], &[])
                .unwrap()
                .drain_timeout,
            Duration::from_millis(500)
        );
        assert_eq!(c.limits.max_request_line, MAX_REQUEST_LINE);
        assert_eq!(c.limits.max_header_section, MAX_HEADER_SECTION);
        assert_eq!(c.limits.max_headers, MAX_HEADERS);
        assert!(!c.trace);
    }

    #[test]
    fn flags_win_over_env() {
        let c = parse(
            &["--addr", "0.0.0.0:9", "--max-body=2k", "--trace"],
            &[("WIREPOST_ADDR", "1.2.3.4:5"), ("WIREPOST_WORKERS", "3")],
        )
        .unwrap();
        assert_eq!(c.addr, "0.0.0.0:9");
        assert_eq!(c.workers, 3);
        assert_eq!(c.max_body, 2048);
        assert!(c.trace);
    }

    #[test]
    fn bad_flags_are_reported() {
        assert_eq!(
            parse(&["--nope"], &[]).unwrap_err(),
            ConfigError::Unknown("nope".into())
        );
        assert_eq!(
            parse(&["--addr"], &[]).unwrap_err(),
            ConfigError::MissingValue("addr".into())
        );
        assert!(matches!(
            parse(&["--workers", "0"], &[]),
            Err(ConfigError::BadValue { .. })
        ));
        assert!(matches!(
            parse(&["--idle-timeout", "-1"], &[]),
            Err(ConfigError::BadValue { .. })
        ));
        assert!(matches!(parse(&["--help"], &[]), Err(ConfigError::Help)));
    }

    #[test]
    fn allowed_hosts_repeat_and_flags_win_over_the_variable() {
        assert!(parse(&[], &[]).unwrap().allowed_hosts.is_empty());
        let c = parse(
            &["--allowed-host", "Evil.Example", "--allowed-host=*"],
            &[("WIREPOST_ALLOWED_HOST", "a.example,b.example")],
        )
        .unwrap();
        assert_eq!(c.allowed_hosts, ["evil.example", "*"]);
        let c = parse(&[], &[("WIREPOST_ALLOWED_HOST", "a.example, .b.example")]).unwrap();
        assert_eq!(c.allowed_hosts, ["a.example", ".b.example"]);
        assert!(matches!(
            parse(&["--allowed-host", "http://x/"], &[]),
            Err(ConfigError::BadValue { .. })
        ));
        assert!(matches!(
            parse(&["--allowed-host"], &[]),
            Err(ConfigError::MissingValue(_))
        ));
    }

    /// A value for every flag, unlike its default.
    const EXAMPLES: &[(&str, &str)] = &[
        ("addr", "0.0.0.0:9"),
        ("workers", "77"),
        ("www", "/srv/www"),
        ("data", "/srv/data"),
        ("docs", "/srv/docs"),
        ("max-body", "2k"),
        ("max-upload", "3M"),
        ("max-upload-files", "7"),
        ("trace", "1"),
        ("wire-log", "off"),
        ("header-timeout", "1.5"),
        ("header-total", "9"),
        ("body-timeout", "4"),
        ("idle-timeout", "5"),
        ("drain-timeout", "6"),
        ("max-connections", "8"),
        ("max-request-line", "100"),
        ("max-header-section", "200"),
        ("max-headers", "3"),
        ("max-sessions", "11"),
        ("purge-every", "12"),
        ("allowed-host", "a.example"),
    ];

    #[test]
    fn every_flag_is_in_help_with_its_default() {
        let help = usage();
        let defaults = Config::default();
        for flag in FLAGS {
            let start = format!("  --{} ", flag.name);
            let line = help
                .lines()
                .find(|l| l.starts_with(&start))
                .unwrap_or_else(|| panic!("--{} is not in --help:\n{help}", flag.name));
            assert!(line.contains(flag.help.lines().next().unwrap()), "{line}");
            if let Some(default) = (flag.default)(&defaults) {
                assert!(line.ends_with(&format!("[{default}]")), "{line}");
            }
        }
        for shown in ["[1M]", "[1G]", "[30]", "[300]", "[60]", "[8K]", "[100000]"] {
            assert!(help.contains(shown), "{shown} missing:\n{help}");
        }
        assert_eq!(ConfigError::Help.to_string(), help);
    }

    #[test]
    fn every_variable_sets_what_its_flag_sets() {
        let mut names: Vec<&str> = FLAGS.iter().map(|f| f.name).collect();
        let mut examples: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        examples.sort_unstable();
        assert_eq!(names, examples, "EXAMPLES must cover FLAGS");
        let default = format!("{:?}", Config::default());
        for flag in FLAGS {
            let (_, value) = EXAMPLES.iter().find(|(n, _)| *n == flag.name).unwrap();
            let var = flag.var();
            assert!(var.starts_with("WIREPOST_") && !var.contains('-'), "{var}");
            let by_var = format!("{:?}", parse(&[], &[(&var, value)]).unwrap());
            let by_flag = format!(
                "{:?}",
                parse(&[&format!("--{}={value}", flag.name)], &[]).unwrap()
            );
            assert_eq!(by_var, by_flag, "{var}={value}");
            assert_ne!(by_var, default, "{var}={value} changed nothing");
        }
    }

    #[test]
    fn timers_are_flags() {
        let c = parse(
            &[
                "--header-timeout",
                "2",
                "--header-total=20",
                "--body-timeout",
                "3",
            ],
            &[("WIREPOST_IDLE_TIMEOUT", "4")],
        )
        .unwrap();
        assert_eq!(c.header_timeout, Duration::from_secs(2));
        assert_eq!(c.header_total, Duration::from_secs(20));
        assert_eq!(c.body_timeout, Duration::from_secs(3));
        assert_eq!(c.idle_timeout, Duration::from_secs(4));
        assert!(matches!(
            parse(&["--body-timeout", "0"], &[]),
            Err(ConfigError::BadValue { .. })
        ));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("5T"), None);
    }
}
