//! The `wirepost` binary: read the configuration, start logging, serve.

use wirepost::config::{Config, ConfigError};

fn main() {
    // First, before any thread exists: every thread started later inherits the mask,
    // and only the server's signal thread takes SIGTERM and SIGINT (a graceful stop).
    let signals = match wirepost::sys::StopSignals::block() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("wirepost: cannot block SIGTERM/SIGINT ({e}); they will kill at once");
            None
        }
    };
    let config =
        match Config::from_args_and_env(std::env::args().skip(1), |k| std::env::var(k).ok()) {
            Ok(c) => c,
            Err(ConfigError::Help) => {
                print!("{}", wirepost::config::usage());
                return;
            }
            Err(e) => {
                eprintln!("wirepost: {e}");
                std::process::exit(2);
            }
        };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    if let Err(e) = wirepost::server::run(config, signals) {
        eprintln!("wirepost: {e}");
        std::process::exit(1);
    }
}
