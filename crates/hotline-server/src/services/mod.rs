//! The gRPC services. Each handler parses its request at the edge (`convert`), checks
//! access, calls the domain and the store, and maps errors in one place (`error`).

mod assessment;
mod audit;
mod auth;
mod call;
mod directory;
mod disclosure;
pub mod fund;
mod ledger;
mod map;
mod routing;
mod seats;
pub mod statistics;
mod time_limits;
mod watch;
mod work_order;

pub use assessment::AssessmentSvc;
pub use audit::AuditSvc;
pub use auth::AuthSvc;
pub use call::CallSvc;
pub use directory::DirectorySvc;
pub use disclosure::DisclosureSvc;
pub use fund::FundSvc;
pub use ledger::LedgerSvc;
pub use map::MapSvc;
pub use routing::RoutingSvc;
pub use seats::{QueueSvc, SeatSvc, TelephonySvc};
pub use statistics::StatisticsSvc;
pub use time_limits::TimeLimitSvc;
pub use work_order::WorkOrderSvc;
