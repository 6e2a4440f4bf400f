//! `hotline-loadgen`: realistic traffic for a running hotline server over real gRPC.
//! See docs/benchmarks.md for how it is used.

pub mod driver;
pub mod figures;
pub mod history;
pub mod ledger;
pub mod mix;
pub mod queue;
pub mod raw;
pub mod recorder;
pub mod scenario;
pub mod screens;
pub mod watch;
