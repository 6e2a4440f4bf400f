//! The electronic work order (电子工单) and what it carries.

use crate::calendar::Calendar;
use crate::model::{
    CallbackMethod, CancelReason, Category, Channel, DeadlineKind, ReturnReason, Satisfaction, State,
    Subcategory, Urgency,
};
use crate::values::{IdNumber, Phone};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who called. Name and phone may be absent (anonymous callers).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Caller {
    pub name: Option<String>,
    pub phone: Option<Phone>,
    /// The caller gave no identity at all.
    pub anonymous: bool,
    /// The caller asked that their identity be kept from the handling unit.
    pub confidential: bool,
    /// The caller's resident identity card number, when they gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<IdNumber>,
}

/// Where the matter is: the village and, derived from the directory, its township and county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub county_id: String,
    pub township_id: String,
    pub village_id: String,
}

/// Who the order is sent to: a handling unit (village, township, county, or a centre's
/// unit id) and, usually, one person in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub unit_id: String,
    pub assignee_id: Option<String>,
}

/// Every deadline the order has run against; `None` until the step that starts it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Deadlines {
    pub dispatch_due: Option<DateTime<Utc>>,
    pub sign_off_due: Option<DateTime<Utc>>,
    pub reply_due: Option<DateTime<Utc>>,
    pub callback_due: Option<DateTime<Utc>>,
    pub redo_due: Option<DateTime<Utc>>,
}

/// A pending request from the handling unit to send the order back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRequest {
    pub reason: ReturnReason,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A pending request for more time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub days: u32,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The handler's reply: what was done for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlingResult {
    pub contacted_at: Option<DateTime<Utc>>,
    pub resolved: bool,
    /// Required when not resolved.
    pub unresolved_reason: Option<String>,
    pub notes: String,
    /// Economic loss recovered for the caller, in yuan.
    pub amount_recovered: Option<Decimal>,
}

/// The callback agent's call to the caller after the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    pub at: DateTime<Utc>,
    pub method: CallbackMethod,
    pub satisfaction: Satisfaction,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: Uuid,
    /// Human-readable number, unique, assigned by storage (e.g. `GD20261126000123`).
    pub number: String,
    /// Bumped by every change; commands name the version they saw.
    pub version: i64,
    pub state: State,
    pub call_id: Option<Uuid>,
    pub channel: Channel,
    pub caller: Caller,
    pub place: Place,
    pub category: Category,
    pub subcategory: Subcategory,
    pub urgency: Urgency,
    /// Complex matters get the longer reply limit of the policy.
    pub complex: bool,
    pub description: String,
    /// What the agent already told the caller, if anything.
    pub agent_answer: Option<String>,
    pub amount_in_dispute: Option<Decimal>,
    pub target: Option<Target>,
    pub deadlines: Deadlines,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_off_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub pending_return: Option<ReturnRequest>,
    pub pending_extension: Option<ExtensionRequest>,
    pub result: Option<HandlingResult>,
    pub callback: Option<Callback>,
    pub cancel_reason: Option<CancelReason>,
    pub return_count: i32,
    pub extension_count: i32,
    pub redo_count: i32,
    pub dissatisfied_count: i32,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WorkOrder {
    /// The deadline the order is running against now, if any, with its kind.
    pub fn current_deadline(&self) -> Option<(DeadlineKind, DateTime<Utc>)> {
        let d = &self.deadlines;
        let (kind, due) = match self.state {
            State::Registered => (DeadlineKind::Dispatch, d.dispatch_due),
            State::AwaitingSignOff => (DeadlineKind::SignOff, d.sign_off_due),
            State::InProgress | State::ExtensionUnderReview => (DeadlineKind::Reply, d.reply_due),
            State::AwaitingCallback => (DeadlineKind::Callback, d.callback_due),
            State::Redo => (DeadlineKind::Redo, d.redo_due),
            // The dispatcher's turn: the handler's clock is stopped.
            State::ReturnUnderReview | State::ReplyUnderReview => return None,
            State::Closed | State::Cancelled | State::Archived => return None,
        };
        due.map(|t| (kind, t))
    }

    /// Overdue: open and past the deadline it is running against.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        matches!(self.current_deadline(), Some((_, due)) if now > due)
    }

    /// Whole working days from `now` to the deadline the order runs against now, on
    /// `calendar` ([`Calendar::working_days_left`]); `None` without a current deadline.
    pub fn working_days_left(&self, now: DateTime<Utc>, calendar: &Calendar) -> Option<i64> {
        self.current_deadline().map(|(_, due)| calendar.working_days_left(now, due))
    }
}
