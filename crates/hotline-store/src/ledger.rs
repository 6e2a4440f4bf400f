//! The duty ledger as stored: on-site visits, records of the six functions, the "nine
//! ones" of each village, monthly reports and township meetings (the rules are
//! `hotline_domain::ledger`'s).
//!
//! Writes made for a client take its request id, registered with the write in its
//! transaction ([`crate::Wrote::Ledger`]); a write that breaks one of the ledger's own
//! rules of uniqueness (one visit per person, unit and day; one record per work order and
//! function; one report per counsel, township and month) is `Conflict` naming the rule,
//! and nothing is written.

use crate::{Page, PageRequest, RequestKey, Result};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use hotline_domain::ledger::{
    ComplianceActivity, Detail, Duty, Function, Month, MonthFigures, NineOne, OrderTally, RecordTally,
    ReportState, VisitDay, VisitReview,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where the phone was at a check-in or check-out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub latitude: f64,
    pub longitude: f64,
    /// From the unit's position; `None` when the unit has none.
    pub distance_km: Option<f64>,
}

/// One on-site visit of a person to a village they counsel or their team's township.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub id: Uuid,
    pub person_id: String,
    pub unit_id: String,
    pub duty: Duty,
    pub township_id: String,
    pub county_id: String,
    /// The Shanghai date of the check-in.
    pub day: NaiveDate,
    pub check_in: Position,
    pub check_out: Option<Position>,
    /// A position outside the radius, or a unit without a position.
    pub flagged: bool,
    /// `None` unless flagged.
    pub review: Option<VisitReview>,
    pub review_note: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// One service of the six functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: Uuid,
    pub person_id: String,
    pub unit_id: String,
    pub duty: Duty,
    pub township_id: String,
    pub county_id: String,
    pub occurred_on: NaiveDate,
    pub detail: Detail,
    /// The work order the service came from.
    pub work_order_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// One of a village's "nine ones" of a year, done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NineOneEntry {
    pub id: Uuid,
    pub village_id: String,
    pub year: i32,
    pub item: NineOne,
    pub done_on: NaiveDate,
    pub note: Option<String>,
    /// The counsel who did it.
    pub person_id: String,
    pub recorded_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// A counsel's report of a month to a township.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    pub id: Uuid,
    pub person_id: String,
    pub township_id: String,
    pub county_id: String,
    pub month: Month,
    pub state: ReportState,
    /// 1 at the first submission; every submission and review adds one.
    pub version: i64,
    pub figures: MonthFigures,
    pub note: Option<String>,
    pub first_submitted_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub created_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// A township's monthly meeting of counsel (法律顾问工作例会).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: Uuid,
    pub township_id: String,
    pub county_id: String,
    pub held_on: NaiveDate,
    /// Directory person ids.
    pub attendees: Vec<String>,
    pub note: Option<String>,
    pub recorded_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// What a ledger list or count covers. Empty fields do not narrow; each list reads the
/// fields that apply to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    pub person_id: Option<String>,
    pub county_id: Option<String>,
    pub township_id: Option<String>,
    /// The village or township of a visit or record.
    pub unit_id: Option<String>,
    pub duty: Option<Duty>,
    /// Records.
    pub function: Option<Function>,
    /// Days (visits, records, meetings), both ends included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Visits: those in this state of review.
    pub review: Option<VisitReview>,
    /// Reports.
    pub month: Option<Month>,
    pub state: Option<ReportState>,
}

/// A visit's check-out, as decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckOut {
    pub position: Position,
    /// The visit is flagged (by this position or its check-in).
    pub flagged: bool,
}

/// A review of a flagged visit, as decided.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitReviewed {
    pub review: VisitReview,
    pub note: Option<String>,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

/// The ledger. Creations return the stored value, or for a repeat of a request the first
/// result (`created: false`); see the module's docs for `Conflict`.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// A new visit. `Conflict` when the person has one at the unit that day.
    async fn check_in(&self, visit: &Visit, request: Option<&RequestKey>) -> Result<crate::Recorded<Visit>>;
    /// Closes an open visit; `None` when no open visit has this id (it is checked out
    /// already, or there is none), and nothing is written.
    async fn check_out(
        &self,
        id: Uuid,
        out: &CheckOut,
        request: Option<&RequestKey>,
    ) -> Result<Option<Visit>>;
    /// Decides a visit awaiting review; `None` when no visit with this id awaits one.
    async fn review_visit(
        &self,
        id: Uuid,
        review: &VisitReviewed,
        request: Option<&RequestKey>,
    ) -> Result<Option<Visit>>;
    async fn get_visit(&self, id: Uuid) -> Result<Visit>;
    /// Newest day first.
    async fn list_visits(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<Visit>>;
    /// Checked-out visits of `filter`'s days, as the duties count them (rejected ones left
    /// out).
    async fn visit_days(&self, filter: &LedgerFilter) -> Result<Vec<VisitDay>>;

    /// A new record. `Conflict` when its work order has a record of its function already.
    async fn create_record(
        &self,
        record: &Record,
        request: Option<&RequestKey>,
    ) -> Result<crate::Recorded<Record>>;
    /// Many records in one transaction, in statements of many rows (a generated year);
    /// a record whose id is stored already is left as it is. How many were written.
    async fn insert_records(&self, records: &[Record]) -> Result<u64>;
    async fn get_record(&self, id: Uuid) -> Result<Record>;
    /// Newest day first.
    async fn list_records(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<Record>>;
    /// Records of `filter` by function.
    async fn record_counts(&self, filter: &LedgerFilter) -> Result<Vec<(Function, u64)>>;
    /// Records of `filter` by function and kind, with their audience, copies and losses
    /// recovered; and the closed work orders of `orders_closed` (an instant range) in
    /// `filter`'s county that have no record, by category and result: what the year's
    /// figures are counted from.
    async fn year_tally(
        &self,
        filter: &LedgerFilter,
        orders_closed: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(Vec<RecordTally>, Vec<OrderTally>)>;

    /// Sets one of a village's nine ones of a year (done on a day, with a note), or
    /// changes it.
    async fn set_nine_one(&self, entry: &NineOneEntry, request: Option<&RequestKey>) -> Result<NineOneEntry>;
    /// Those set for a village and year.
    async fn nine_ones(&self, village_id: &str, year: i32) -> Result<Vec<NineOneEntry>>;
    async fn get_nine_one(&self, id: Uuid) -> Result<NineOneEntry>;

    /// A first submission (`expected_version` `None`): `Conflict` when the counsel has a
    /// report of that township and month. A submission again (`Some(version)`): writes
    /// `report` over the stored one, which must still be at `version` (else `Stale`).
    async fn submit_report(
        &self,
        report: &MonthlyReport,
        expected_version: Option<i64>,
        request: Option<&RequestKey>,
    ) -> Result<crate::Recorded<MonthlyReport>>;
    /// Writes a reviewed report over the stored one, which must still be at
    /// `expected_version` (else `Stale`).
    async fn review_report(
        &self,
        next: &MonthlyReport,
        expected_version: i64,
        request: Option<&RequestKey>,
    ) -> Result<MonthlyReport>;
    async fn get_report(&self, id: Uuid) -> Result<MonthlyReport>;
    async fn find_report(
        &self,
        person_id: &str,
        township_id: &str,
        month: Month,
    ) -> Result<Option<MonthlyReport>>;
    /// Newest month first.
    async fn list_reports(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<MonthlyReport>>;

    async fn record_meeting(
        &self,
        meeting: &Meeting,
        request: Option<&RequestKey>,
    ) -> Result<crate::Recorded<Meeting>>;
    async fn get_meeting(&self, id: Uuid) -> Result<Meeting>;
    /// Latest first.
    async fn list_meetings(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<Meeting>>;

    /// What a compliance board of `month` counts, within `filter`'s county or township:
    /// the month's checked-out visits, education records from January to the month's
    /// end by unit, the month's reports and meetings, and who is inactive now. The posts
    /// themselves come from the directory (`RoutingSnapshot`, `DutyPosts`).
    async fn compliance_activity(&self, filter: &LedgerFilter, month: Month) -> Result<ComplianceActivity>;
}

/// Position in a ledger list: the item's day (or month) as text, and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCursor {
    pub key: String,
    pub id: Uuid,
}
