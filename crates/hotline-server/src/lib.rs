//! The hotline server: configuration, identity, the gRPC services and the `hotline`
//! command-line tool's commands. The binary in `main.rs` only parses arguments.

pub mod access;
pub mod admission;
pub mod app;
pub mod auth;
pub mod authz;
pub mod bus;
pub mod caller_keys;
pub mod cli;
pub mod config;
pub mod connections;
pub mod console;
pub mod convert;
pub mod demo;
pub mod error;
pub mod events;
pub mod health;
pub mod holidays;
pub mod import;
pub mod limits;
pub mod metrics;
pub mod orders;
pub mod paging;
pub mod privacy;
pub mod programme;
pub mod queue;
pub mod report;
pub mod requests;
pub mod rollup;
pub mod routing;
pub mod services;
pub mod startup;
pub mod suggest;
pub mod sweeper;
pub mod telemetry;
pub mod time_limits;
pub mod tls;
pub mod users;

pub use app::{App, Clock, SystemClock};
pub use startup::{open_configured_store, open_store, open_store_with, serve};
