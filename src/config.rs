//! Command-line flags and `WIREPOST_*` environment variables, into one [`Config`].
//!
//! Every flag `--some-name VALUE` (or `--some-name=VALUE`) can also come from the
//! environment variable `WIREPOST_SOME_NAME`; a flag wins over the variable, which wins
//! over the default. Sizes take an optional suffix (`K`, `M`, `G`, also `KiB`…: powers
//! of 1024); durations are seconds and may have a fraction (`0.5`).

use crate::http::head::HeadLimits;
use std::path::PathBuf;
use std::time::Duration;

/// Seconds to wait for the next line of a head (or its first line, from its first
/// byte); 408 past it. SPEC: 30 s, so that a person typing into `nc` is served.
pub const HEADER_TIMEOUT_SECS: f64 = 30.0;
/// Seconds for a whole head from its first byte (408 past it); SPEC: 300 s.
pub const HEADER_TOTAL_SECS: f64 = 300.0;
/// Seconds an announced body may go without a byte (408 past it); SPEC: 30 s.
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
    pub max_body: u64,
    pub max_upload: u64,
    pub max_upload_files: usize,
    pub trace: bool,
    /// Longest wait for the next line of a head (`--header-timeout`).
    pub header_timeout: Duration,
    /// Longest time for a whole head from its first byte (`--header-total`).
    pub header_total: Duration,
    /// Longest wait for the next byte of an announced body (`--body-timeout`).
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
            max_body: MAX_BODY,
            max_upload: MAX_UPLOAD,
            max_upload_files: MAX_UPLOAD_FILES,
            trace: false,
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

/// The usage text of `--help`.
pub const USAGE: &str = "\
usage: wirepost [FLAGS]

Each flag can also be set by the environment variable WIREPOST_<NAME>
(e.g. WIREPOST_ADDR=0.0.0.0:8000); a flag wins over the variable.

  --addr HOST:PORT          listen address                [127.0.0.1:8000]
  --workers N               event-loop threads            [number of cores]
  --www DIR                 templates and static files    [www]
  --data DIR                runtime state                 [data]
  --max-body BYTES          largest form/JSON body        [1M]
  --max-upload BYTES        largest upload                [1G]
  --max-upload-files N      files in one upload at most   [100]
  --trace                   print every connection's bytes in and out
  --header-timeout SECS     408 if a head line takes longer [30]
  --header-total SECS       408 if a whole head takes longer [300]
  --body-timeout SECS       408 if a body stalls that long  [30]
  --idle-timeout SECS       close idle connections after  [60]
  --drain-timeout SECS      on SIGTERM, wait for requests [10]
  --max-connections N       open connections at most      [10000]
  --max-request-line BYTES  414 past it                   [8192]
  --max-header-section BYTES 431 past it                  [16384]
  --max-headers N           431 past it                   [100]
  --max-sessions N          live sessions at most         [100000]
  --purge-every SECS        purge expired sessions every  [60]
  --allowed-host NAME       a Host a browser may use besides localhost, 127.0.0.1,
                            [::1] and the listen address; repeatable, * for any,
                            .example.com for it and its subdomains (the variable
                            takes a comma-separated list)

Logging: RUST_LOG=info (default) logs one line per request; RUST_LOG=warn none.
Stopping: SIGTERM or Ctrl-C stops accepting, closes idle connections, lets requests in
flight finish (up to --drain-timeout), flushes storage and exits 0; a second signal
exits at once.
";

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
            ConfigError::Help => f.write_str(USAGE),
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

fn parse_secs(s: &str) -> Option<Duration> {
    let v: f64 = s.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then(|| Duration::from_secs_f64(v))
}

const FLAGS: &[&str] = &[
    "addr",
    "workers",
    "www",
    "data",
    "max-body",
    "max-upload",
    "max-upload-files",
    "trace",
    "header-timeout",
    "header-total",
    "body-timeout",
    "idle-timeout",
    "drain-timeout",
    "max-connections",
    "max-request-line",
    "max-header-section",
    "max-headers",
    "max-sessions",
    "purge-every",
    "allowed-host",
];

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

impl Config {
    /// Read the flags (`args` without the program name) over the environment.
    pub fn from_args_and_env(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut values: Vec<(String, String)> = Vec::new();
        for name in FLAGS {
            let var = format!("WIREPOST_{}", name.to_ascii_uppercase().replace('-', "_"));
            if let Some(v) = env(&var) {
                values.push((name.to_string(), v));
            }
        }
        // A repeatable flag wins over its variable as a whole: the first flag drops
        // what the variable gave.
        let from_env = values.len();
        let mut hosts_from_flags = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Err(ConfigError::Help);
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(ConfigError::Unknown(arg));
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (flag.to_string(), None),
            };
            if !FLAGS.contains(&name.as_str()) {
                return Err(ConfigError::Unknown(name));
            }
            let value = if name == "trace" {
                inline.unwrap_or_else(|| "1".into())
            } else {
                match inline.or_else(|| args.next()) {
                    Some(v) => v,
                    None => return Err(ConfigError::MissingValue(name)),
                }
            };
            values.push((name, value));
        }
        let mut c = Config::default();
        for (i, (name, value)) in values.into_iter().enumerate() {
            let bad = || ConfigError::BadValue {
                name: name.clone(),
                value: value.clone(),
            };
            let size = || parse_size(&value).ok_or_else(bad);
            let count = || {
                value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(bad)
            };
            match name.as_str() {
                "addr" => c.addr = value.clone(),
                "workers" => c.workers = count()?,
                "www" => c.www = value.clone().into(),
                "data" => c.data = value.clone().into(),
                "max-body" => c.max_body = size()?,
                "max-upload" => c.max_upload = size()?,
                "max-upload-files" => c.max_upload_files = count()?,
                "trace" => c.trace = !matches!(value.as_str(), "0" | "false" | "no" | "off" | ""),
                "header-timeout" => c.header_timeout = parse_secs(&value).ok_or_else(bad)?,
                "header-total" => c.header_total = parse_secs(&value).ok_or_else(bad)?,
                "body-timeout" => c.body_timeout = parse_secs(&value).ok_or_else(bad)?,
                "idle-timeout" => c.idle_timeout = parse_secs(&value).ok_or_else(bad)?,
                "drain-timeout" => c.drain_timeout = parse_secs(&value).ok_or_else(bad)?,
                "max-connections" => c.max_connections = count()?,
                "max-request-line" => c.limits.max_request_line = size()? as usize,
                "max-header-section" => c.limits.max_header_section = size()? as usize,
                "max-headers" => c.limits.max_headers = count()?,
                "max-sessions" => c.max_sessions = count()?,
                "purge-every" => c.purge_every = parse_secs(&value).ok_or_else(bad)?,
                "allowed-host" => {
                    if i >= from_env && !hosts_from_flags {
                        hosts_from_flags = true;
                        c.allowed_hosts.clear();
                    }
                    for one in value.split(',').filter(|v| !v.trim().is_empty()) {
                        c.allowed_hosts
                            .push(parse_allowed_host(one).ok_or_else(bad)?);
                    }
                }
                _ => return Err(ConfigError::Unknown(name)),
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

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("5T"), None);
    }
}
