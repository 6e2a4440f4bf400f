//! Tests of the domain through its public API, in one binary to keep links few.

mod deadlines;
mod escalation;
mod fixtures;
mod fund;
mod policy;
mod queue;
mod routing;
mod rules;
mod staffing;
mod sweep;
mod transitions;
