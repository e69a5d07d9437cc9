//! Fit and finish (issue 13): the startup lines, `--trace`, addresses from `Host`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::temp_dir;

/// Lines of a child's pipe, read on a thread (a pipe read cannot time out).
fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// At the default log level the URL is printed once, with the worker count, and then
/// how to stop; stderr does not repeat it.
#[test]
fn startup_prints_the_url_once_and_how_to_stop() {
    for (workers, label) in [("1", "(1 worker)"), ("2", "(2 workers)")] {
        let dir = temp_dir("startup");
        let mut child = Command::new(env!("CARGO_BIN_EXE_wirepost"))
            .args(["--addr", "127.0.0.1:0", "--workers", workers, "--data"])
            .arg(dir.join("data"))
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        let wait = Duration::from_secs(10);
        let first = out.recv_timeout(wait).expect("a first line on stdout");
        assert!(
            first.starts_with("wirepost listening on http://127.0.0.1:")
                && first.ends_with(&format!("/ {label}")),
            "{first:?}"
        );
        let second = out.recv_timeout(wait).expect("a second line on stdout");
        assert_eq!(second, "Ctrl-C to stop");
        child.kill().unwrap();
        child.wait().unwrap();
        let rest: Vec<String> = out.iter().chain(err.iter()).collect();
        assert!(
            !rest.iter().any(|l| l.contains("http://")),
            "the URL is repeated: {rest:?}"
        );
    }
}
