//! Logging set up once, from the config: an `EnvFilter` (RUST_LOG wins) and pretty or
//! JSON lines. Handlers log ids and outcomes, never a caller's name or number.

use crate::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A second init (tests start several servers in one process) is harmless.
    let _ = result;
}
