//! What the counsel programme keeps: the special fund's years, its dedicated accounts
//! and their entries, payments to counsel, the programme policy, and disqualifications
//! of counsel (docs/architecture.md, "The counsel programme").
//!
//! Every write is one transaction. A balance is changed only under the account's row
//! lock (PostgreSQL `select ... for update`; SQLite's one writer holds the database's
//! write lock), read, added to or refused in Rust with exact decimals, and written back
//! in the transaction that writes the payment or the allocation and the entry: no
//! account goes below zero, and its entries add up to its balance.

use crate::{Page, PageRequest, RequestKey, Result, StoredPolicy};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::fund::{Credit, FundLevel};
use hotline_domain::{Transition, WorkOrder};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A year's fund as the city allocated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundYear {
    pub year: i32,
    pub amount: Decimal,
    /// Set when the amount was grown from the year before.
    pub growth_rate: Option<Decimal>,
    /// City, county, township.
    pub levels: [Decimal; 3],
    pub allocated_by: Uuid,
    pub allocated_at: DateTime<Utc>,
}

/// A dedicated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The unit that holds it.
    pub unit_id: String,
    pub level: FundLevel,
    pub balance: Decimal,
    /// Everything allocated to it, and everything paid from it.
    pub credited: Decimal,
    pub paid: Decimal,
    pub opened_at: DateTime<Utc>,
}

/// A payment to a counsel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub account_unit_id: String,
    pub person_id: String,
    pub service_kind: String,
    /// The id of the record of the service (a ledger record, a work order).
    pub service_ref: String,
    pub quantity: u32,
    /// Yuan per unit, from the programme policy when it was paid.
    pub rate: Decimal,
    pub amount: Decimal,
    pub note: Option<String>,
    pub paid_by: Uuid,
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Allocation,
    Payment,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Allocation => "allocation",
            EntryKind::Payment => "payment",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        match s {
            "allocation" => Some(EntryKind::Allocation),
            "payment" => Some(EntryKind::Payment),
            _ => None,
        }
    }
}

/// One change of an account's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Increasing in the order the account's entries were applied.
    pub id: i64,
    pub account_unit_id: String,
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// Signed: a credit is above zero, a payment below.
    pub amount: Decimal,
    /// The balance after this entry.
    pub balance: Decimal,
    /// The year an allocation is of.
    pub year: Option<i32>,
    /// The payment a debit is.
    pub payment_id: Option<Uuid>,
}

/// The units the fund is shared among, with their weights: the city, every county with
/// the number of villages in its townships, every township with the number of its
/// villages (by id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FundUnits {
    pub city_id: Option<String>,
    pub counties: Vec<(String, u32)>,
    pub townships: Vec<(String, u32)>,
    /// Each township's county.
    pub county_of: HashMap<String, String>,
    /// The name of the city, each county and each township.
    pub names: HashMap<String, String>,
}

impl FundUnits {
    /// The level of a unit that may hold an account.
    pub fn level(&self, unit_id: &str) -> Option<FundLevel> {
        if self.city_id.as_deref() == Some(unit_id) {
            Some(FundLevel::City)
        } else if self.county_of.contains_key(unit_id) {
            Some(FundLevel::Township)
        } else if self.counties.iter().any(|(id, _)| id == unit_id) {
            Some(FundLevel::County)
        } else {
            None
        }
    }

    /// A county and its townships.
    pub fn county_and_townships(&self, county_id: &str) -> Vec<String> {
        std::iter::once(county_id.to_owned())
            .chain(
                self.townships
                    .iter()
                    .filter(|(t, _)| self.county_of.get(t).is_some_and(|c| c == county_id))
                    .map(|(t, _)| t.clone()),
            )
            .collect()
    }
}

/// Which payments a list shows; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// Paid from one of these accounts (by unit id); `None` is any account.
    pub accounts: Option<Vec<String>>,
    pub person_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Storage of the fund. A refused payment (the account's balance too low, the account
/// not open) is `Precondition`; a second payment for the same record and kind is
/// `Conflict`.
#[async_trait]
pub trait FundStore: Send + Sync {
    /// The units the fund is shared among, as the directory has them now.
    async fn fund_units(&self) -> Result<FundUnits>;
    /// Records the year and credits every account (opening those not open yet), each
    /// with an entry, in one transaction. `Conflict` when the year was allocated.
    async fn allocate_fund(&self, year: &FundYear, credits: &[Credit]) -> Result<()>;
    /// NotFound for a year not allocated.
    async fn fund_year(&self, year: i32) -> Result<FundYear>;
    /// The entries an allocation made, by account.
    async fn allocation_entries(&self, year: i32) -> Result<Vec<Entry>>;
    /// The accounts of these units (every account when `None`), by unit id.
    async fn accounts(&self, unit_ids: Option<&[String]>) -> Result<Vec<Account>>;
    /// Pays from `payment.account_unit_id` in one transaction: the balance read under
    /// the account's lock, the payment refused (`Precondition`, nothing written) when
    /// it is larger, else the payment, the debit entry and the new balance written, and
    /// `request` registered with the payment. A repeat of the request returns the first
    /// payment and its entry (`created: false`) and writes nothing; its id sent with
    /// another request is `RequestReused`.
    async fn pay(
        &self,
        payment: &Payment,
        request: Option<&RequestKey>,
    ) -> Result<crate::Recorded<(Payment, Entry)>>;
    async fn payment(&self, id: Uuid) -> Result<(Payment, Entry)>;
    /// The account's entries, oldest first, with a cursor.
    async fn statement(&self, unit_id: &str, page: &PageRequest) -> Result<Page<Entry>>;
    /// Payments newest first, with a cursor.
    async fn list_payments(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page<Payment>>;
    async fn stored_programme_policy(&self) -> Result<Option<StoredPolicy>>;
    async fn save_programme_policy(&self, policy: &StoredPolicy) -> Result<()>;
}

/// Where a disqualification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisqualificationState {
    Proposed,
    Confirmed,
    Rejected,
}

impl DisqualificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            DisqualificationState::Proposed => "proposed",
            DisqualificationState::Confirmed => "confirmed",
            DisqualificationState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "proposed" => DisqualificationState::Proposed,
            "confirmed" => DisqualificationState::Confirmed,
            "rejected" => DisqualificationState::Rejected,
            _ => return None,
        })
    }
}

/// What a confirmation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Each village the counsel had, and who counsels it now.
    pub villages: Vec<MovedVillage>,
    /// The open orders sent to new handlers, with the event that records it.
    pub orders: Vec<ReassignedOrder>,
    /// The counsel's sign-in accounts (role counsel) deactivated.
    pub users_deactivated: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedVillage {
    pub village_id: String,
    pub counsel_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassignedOrder {
    pub order_id: Uuid,
    pub event_id: i64,
    pub assignee_id: Option<String>,
}

/// A county's proposal to disqualify a counsel, and the city's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disqualification {
    pub id: Uuid,
    pub person_id: String,
    /// The proposing county.
    pub county_id: String,
    pub state: DisqualificationState,
    pub reason: String,
    pub successor_id: Option<String>,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub outcome: Option<Outcome>,
}

/// The decision of a city admin on a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub id: Uuid,
    pub by: Uuid,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// How a confirmation sends the counsel's open orders on: the transition of each order
/// (as stored, locked) to its new handler, decided in the confirmation's transaction;
/// `Err` refuses the whole confirmation.
pub type Reassign = Arc<dyn Fn(&WorkOrder) -> Result<Transition> + Send + Sync>;

/// Which disqualifications a list shows; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisqualificationFilter {
    pub county_id: Option<String>,
    pub state: Option<DisqualificationState>,
}

/// Storage of disqualifications.
#[async_trait]
pub trait DisqualificationStore: Send + Sync {
    /// Stores a proposal. `Conflict` when one for the person awaits a decision.
    async fn propose_disqualification(&self, d: &Disqualification) -> Result<()>;
    async fn disqualification(&self, id: Uuid) -> Result<Disqualification>;
    /// Newest first, with a cursor.
    async fn list_disqualifications(
        &self,
        filter: &DisqualificationFilter,
        page: &PageRequest,
    ) -> Result<Page<Disqualification>>;
    /// Rejects a proposal. `Precondition` when it was decided already.
    async fn reject_disqualification(&self, decision: &Decision) -> Result<Disqualification>;
    /// Confirms a proposal in one transaction: each of the counsel's villages goes to
    /// its counsel in `villages` (village -> person), every village they counsel now
    /// must be there (else `Precondition`: the directory changed); the person is made
    /// inactive and disqualified; their counsel sign-in accounts are deactivated and
    /// their sessions revoked; each open order assigned to them is sent on by
    /// `reassign` (its event written with the order, its version moved on); the
    /// directory version moves on, so every instance's routing index is rebuilt.
    /// `Precondition` when the proposal was decided already. Returns the decided
    /// proposal and the orders' events.
    async fn confirm_disqualification(
        &self,
        decision: &Decision,
        villages: &[(String, String)],
        reassign: Reassign,
    ) -> Result<(Disqualification, Vec<crate::Event>)>;
    /// Every person disqualified, and when.
    async fn disqualified(&self) -> Result<HashMap<String, DateTime<Utc>>>;
}
