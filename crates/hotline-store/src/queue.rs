//! Storage of the call queue: seat agents' state, the telephony calls, and the log of
//! queue events. The live queue is kept in memory by each server instance, as a replica
//! of the log: the log's id order is the one order of queue events, an instance appends
//! an event only if the log's head is still the one its state is as of
//! ([`QueueStore::append_queue_change`]), and it catches up by replaying the entries after
//! its head ([`QueueStore::queue_log_since`]). The agent and call records are what a
//! replica is rebuilt from, and what every call figure of any period is computed from.

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

/// What [`QueueStore::append_queue_change`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueAppend {
    /// The entry was appended with this id, the log's new head.
    Appended(i64),
    /// The log's head was not the one expected: nothing was written. `head` is the id of
    /// the log's last entry as found (0 while the log is empty).
    Behind { head: i64 },
}

/// One stored entry of the queue log, as a replica replays it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueLogged {
    /// The entry's place in the log's one order.
    pub id: i64,
    pub entry: QueueLogEntry,
    /// The caller's number of an `offered` entry, read from its call record (the log
    /// itself holds none); `None` for other kinds.
    pub caller_phone: Option<String>,
}

/// The live queue's records and the log head they are as of, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueLoad {
    /// The id of the log's last entry (0 while the log is empty).
    pub head: i64,
    /// The time of that entry.
    pub head_at: Option<DateTime<Utc>>,
    pub agents: Vec<AgentRecord>,
    pub calls: Vec<CallRecord>,
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
    /// (insert or replace), in one transaction, whatever the log's head. Returns the
    /// entry's id. Appends are serialised with those of [`QueueStore::append_queue_change`],
    /// so ids follow commit order.
    async fn save_queue_change(
        &self,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<i64>;
    /// Like [`QueueStore::save_queue_change`], only if the log's head (the id of its last
    /// entry, 0 while it is empty) is `expected_head`: the change was decided on the state
    /// as of that entry. Appends from every process on the database are serialised (a
    /// transaction-level advisory lock on PostgreSQL, the one writer on SQLite), the head
    /// is compared under it, and an entry's id is greater than every id committed before.
    /// Otherwise nothing is written and the head found is returned.
    async fn append_queue_change(
        &self,
        expected_head: i64,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<QueueAppend>;
    /// Every agent, and the calls offered at or after `since` together with any call
    /// still open (waiting, or talk or wrap-up not over).
    async fn load_queue(&self, since: DateTime<Utc>) -> Result<(Vec<AgentRecord>, Vec<CallRecord>)> {
        let load = self.load_queue_state(since).await?;
        Ok((load.agents, load.calls))
    }
    /// What [`QueueStore::load_queue`] reads, and the log's head, in one consistent read:
    /// the records are exactly those of the log up to and including the head.
    async fn load_queue_state(&self, since: DateTime<Utc>) -> Result<QueueLoad>;
    /// The log's entries after id `after`, in id order, at most `limit`: the entries a
    /// replica whose head is `after` has not applied.
    async fn queue_log_since(&self, after: i64, limit: u32) -> Result<Vec<QueueLogged>>;
    /// The id of the log's last entry (0 while it is empty): one indexed read, for
    /// replicas polling for entries written through other instances.
    async fn queue_log_head(&self) -> Result<i64>;
    /// How often a replica polls the head: often where other processes write too
    /// (PostgreSQL), rarely where every write is this process's own (SQLite).
    fn queue_poll(&self) -> std::time::Duration;
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
