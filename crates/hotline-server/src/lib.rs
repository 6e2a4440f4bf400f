//! The hotline server: configuration, identity, the gRPC services and the `hotline`
//! command-line tool's commands. The binary in `main.rs` only parses arguments.

pub mod access;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod convert;
pub mod demo;
pub mod error;
pub mod import;
pub mod metrics;
pub mod queue;
pub mod rollup;
pub mod routing;
pub mod services;
pub mod suggest;
pub mod telemetry;

pub use app::{App, Clock, SystemClock, open_store, serve};
