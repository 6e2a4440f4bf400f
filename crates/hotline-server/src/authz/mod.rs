//! Authorization: one table of who may call which RPC and how far their reach goes
//! (role x RPC x scope), enforced in two places only:
//!
//! - the role cell, by [`AuthorizeLayer`] in front of every service: it reads the gRPC
//!   method path, checks the caller's token and the table, and refuses with
//!   PERMISSION_DENIED every role without a cell and every path without a row; what it
//!   allows it hands the handler as one [`Grant`] (the caller and their reach);
//! - the scope cell, in the handlers, through [`Scope`] built from that grant: every
//!   get, list, history, statistics, search, action and watch narrows or checks what it
//!   touches with it.
//!
//! The lifecycle's role table (`hotline_domain::roles_for`) stays the authority on who
//! may take which action; the action rows here name their action and a unit test checks
//! that both tables agree.
//!
//! One file each: the table (`table.rs`), the layer (`layer.rs`), the scope (`scope.rs`).

mod layer;
mod scope;
mod table;

pub use layer::{Authorize, AuthorizeLayer, Grant, actor, decide};
pub use scope::{NOT_FOUND_OR_NOT_YOURS, Named, Scope};
pub use table::{Reach, Rule, TABLE, WATCH_WORK_ORDERS, markdown_table, rule};
