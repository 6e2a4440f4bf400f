//! Storage of the call queue: seat agents' state, the telephony calls, and the log of
//! queue events. The live queue is kept in memory by the server; these records are
//! what it is rebuilt from, and what every call figure of any period is computed from.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::queue::{AgentRecord, CallRecord, DayTotals};
use uuid::Uuid;

/// One entry of the queue event log. The caller's number is not in it (it is on the
/// call record).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueLogEntry {
    pub at: DateTime<Utc>,
    /// The event's kind (`offered`, `answered`, `sign_in`, ...).
    pub kind: String,
    pub call_id: Option<String>,
    pub agent_id: Option<Uuid>,
    /// Who reported it: the telephony account, the agent, a dispatcher, or the server.
    pub actor_id: Option<Uuid>,
    pub payload: serde_json::Value,
}

/// An intake record written for a telephony call, and the work orders made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeLink {
    pub telephony_call_id: String,
    pub call_id: Uuid,
    pub work_order_ids: Vec<Uuid>,
}

#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Appends `entry` to the event log and writes the changed agent and call records
    /// (insert or replace), in one transaction. Returns the entry's id.
    async fn save_queue_change(
        &self,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<i64>;
    /// Every agent, and the calls offered at or after `since` together with any call
    /// still open (waiting, or talk or wrap-up not over).
    async fn load_queue(&self, since: DateTime<Utc>) -> Result<(Vec<AgentRecord>, Vec<CallRecord>)>;
    async fn get_queue_call(&self, id: &str) -> Result<CallRecord>;
    /// Calls offered in `[from, to)`, oldest first, at most `limit`.
    async fn list_queue_calls(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CallRecord>>;
    /// The figures of the calls offered in `[from, to)`, computed in the database.
    async fn queue_totals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<DayTotals>;
    /// The intake records (and their orders) of these telephony calls.
    async fn intake_links(&self, telephony_call_ids: &[String]) -> Result<Vec<IntakeLink>>;
    /// The number of entries in the event log (for tests and tools).
    async fn queue_log_len(&self) -> Result<i64>;
}
