//! Pure types and rules of the 12348 public legal service hotline.
//!
//! No I/O and no async: everything here is decided from its inputs, so the lifecycle,
//! the deadlines and the policies are unit-tested without a database or a network.

pub mod calendar;
pub mod error;
pub mod fund;
pub mod geo;
pub mod ledger;
pub mod lifecycle;
pub mod model;
pub mod order;
pub mod programme;
pub mod queue;
pub mod routing;
pub mod sla;
pub mod staffing;
pub mod stats;
pub mod sweep;
pub mod values;

pub(crate) use model::named_enum;

pub use calendar::{Calendar, CalendarError, Day, DayKind, Gap, parse_notice};
pub use error::{DomainError, FieldError, UnknownName};
pub use lifecycle::{
    Action, Actor, Command, Ctx, EventDraft, EventKind, NewOrder, REGISTER_ROLES, ReturnDecision, Transition,
    roles_for, states_for, states_for_role,
};
pub use model::*;
pub use order::*;
pub use routing::{InstitutionKind, Level, RoutingIndex, RoutingPolicy};
pub use sla::{Limit, PolicyError, SlaPolicy};
pub use values::{IdNumber, Phone};

/// Asia/Shanghai: UTC+8 all year (China has kept no daylight saving time since 1991),
/// so a fixed offset is exact and needs no time-zone database.
pub fn shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}
