//! The `wirepost` binary: read the configuration, start logging, serve.

use wirepost::config::{Config, ConfigError};

fn main() {
    let config =
        match Config::from_args_and_env(std::env::args().skip(1), |k| std::env::var(k).ok()) {
            Ok(c) => c,
            Err(ConfigError::Help) => {
                print!("{}", wirepost::config::USAGE);
                return;
            }
            Err(e) => {
                eprintln!("wirepost: {e}");
                std::process::exit(2);
            }
        };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    if let Err(e) = wirepost::server::run(config) {
        eprintln!("wirepost: {e}");
        std::process::exit(1);
    }
}
