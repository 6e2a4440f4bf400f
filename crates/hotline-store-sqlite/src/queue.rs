//! The call queue on SQLite: agent and call records, the event log, and period figures.

use crate::SqliteStore;
use crate::rows::{R, corrupt, db, micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::queue::{ANSWER_TARGET_SECS, AgentRecord, CallRecord, DayTotals};
use hotline_store::{CallerKeys, IntakeLink, QueueLogEntry, QueueStore, Result, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::BTreeMap;
use uuid::Uuid;

fn agent_from_row(row: &SqliteRow) -> Result<AgentRecord> {
    let r = R(row);
    Ok(AgentRecord {
        agent_id: r.uuid("agent_id")?,
        seat: r.get("seat")?,
        skills: r.json("skills")?,
        presence: r.named("presence")?,
        break_reason: r.get("break_reason")?,
        since: r.time("since")?,
        call_id: r.get("call_id")?,
        ringing: r.get::<i64>("ringing")? != 0,
    })
}

fn call_from_row(row: &SqliteRow, keys: &CallerKeys) -> Result<CallRecord> {
    let r = R(row);
    let transfers: i64 = r.get("transfers")?;
    Ok(CallRecord {
        id: r.get("id")?,
        caller_phone: keys
            .open_value(
                "caller_phone",
                r.get("caller_phone")?,
                r.get::<Option<String>>("caller_key_id")?.as_deref(),
            )?
            .unwrap_or_default(),
        line: r.get("line")?,
        skills: r.json("skills")?,
        offered_at: r.time("offered_at")?,
        agent_id: r.opt_uuid("agent_id")?,
        answered_at: r.opt_time("answered_at")?,
        abandoned_at: r.opt_time("abandoned_at")?,
        ended_at: r.opt_time("ended_at")?,
        wrap_ended_at: r.opt_time("wrap_ended_at")?,
        transfers: u32::try_from(transfers).map_err(|e| corrupt("transfers", e))?,
    })
}

fn json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(StoreError::other)
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn save_queue_change(
        &self,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<i64> {
        let (entry, agents, calls, keys) =
            (entry.clone(), agents.to_vec(), calls.to_vec(), self.caller_keys().clone());
        self.write(move |tx| Box::pin(async move { queue_change(tx, &entry, &agents, &calls, &keys).await }))
            .await
    }

    async fn load_queue(&self, since: DateTime<Utc>) -> Result<(Vec<AgentRecord>, Vec<CallRecord>)> {
        let agents = sqlx::query("select * from queue_agents order by agent_id")
            .fetch_all(self.pool())
            .await
            .map_err(db)?
            .iter()
            .map(agent_from_row)
            .collect::<Result<Vec<_>>>()?;
        let calls = sqlx::query(
            "select * from queue_calls where offered_at >= ? \
             union select * from queue_calls where abandoned_at is null and wrap_ended_at is null",
        )
        .bind(micros(since))
        .fetch_all(self.pool())
        .await
        .map_err(db)?
        .iter()
        .map(|r| call_from_row(r, self.caller_keys()))
        .collect::<Result<Vec<_>>>()?;
        Ok((agents, calls))
    }

    async fn get_queue_call(&self, id: &str) -> Result<CallRecord> {
        let row = sqlx::query("select * from queue_calls where id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db)?
            .ok_or_else(|| StoreError::not_found("queue call", id))?;
        call_from_row(&row, self.caller_keys())
    }

    async fn list_queue_calls(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CallRecord>> {
        sqlx::query("select * from queue_calls where offered_at >= ? and offered_at < ? order by offered_at, id limit ?")
            .bind(micros(from))
            .bind(micros(to))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db)?
            .iter()
            .map(|r| call_from_row(r, self.caller_keys()))
            .collect()
    }

    async fn queue_totals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<DayTotals> {
        // Milliseconds truncate toward zero, as chrono's num_milliseconds does.
        let row = sqlx::query(
            "select count(*) as offered, \
               count(answered_at) as answered, \
               coalesce(sum(case when answered_at is not null and (answered_at - offered_at) / 1000 <= ? \
                 then 1 else 0 end), 0) as in_target, \
               count(abandoned_at) as abandoned, \
               coalesce(sum((answered_at - offered_at) / 1000), 0) as wait_ms, \
               coalesce(sum(case when answered_at is not null and wrap_ended_at is not null then 1 else 0 end), 0) as handled, \
               coalesce(sum(case when answered_at is not null then (wrap_ended_at - answered_at) / 1000 end), 0) as handle_ms \
             from queue_calls where offered_at >= ? and offered_at < ?",
        )
        .bind(ANSWER_TARGET_SECS * 1000)
        .bind(micros(from))
        .bind(micros(to))
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        let r = R(&row);
        let n = |c: &str| -> Result<u64> { u64::try_from(r.get::<i64>(c)?).map_err(|e| corrupt(c, e)) };
        Ok(DayTotals {
            offered: n("offered")?,
            answered: n("answered")?,
            answered_in_target: n("in_target")?,
            abandoned: n("abandoned")?,
            answer_wait_ms: r.get("wait_ms")?,
            handled: n("handled")?,
            handle_ms: r.get("handle_ms")?,
        })
    }

    async fn intake_links(&self, telephony_call_ids: &[String]) -> Result<Vec<IntakeLink>> {
        if telephony_call_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "select c.telephony_call_id as tid, c.id as cid, o.id as oid from calls c \
             left join work_orders o on o.call_id = c.id where c.telephony_call_id in (",
        );
        let mut list = qb.separated(", ");
        for id in telephony_call_ids {
            list.push_bind(id.as_str());
        }
        qb.push(") order by c.call_time, c.id, o.created_at, o.id");
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        let mut links: BTreeMap<(String, Uuid), Vec<Uuid>> = BTreeMap::new();
        let mut order: Vec<(String, Uuid)> = Vec::new();
        for row in &rows {
            let r = R(row);
            let key = (r.get::<String>("tid")?, r.uuid("cid")?);
            let entry = links.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                Vec::new()
            });
            if let Some(o) = r.opt_uuid("oid")? {
                entry.push(o);
            }
        }
        Ok(order
            .into_iter()
            .map(|k| {
                let orders = links.remove(&k).unwrap_or_default();
                IntakeLink { telephony_call_id: k.0, call_id: k.1, work_order_ids: orders }
            })
            .collect())
    }

    async fn queue_log_len(&self) -> Result<i64> {
        let n: i64 = sqlx::query_scalar("select count(*) from queue_events")
            .fetch_one(self.pool())
            .await
            .map_err(db)?;
        Ok(n)
    }
}

/// The statements of `save_queue_change`, in the writer's transaction.
async fn queue_change(
    tx: &mut SqliteConnection,
    entry: &QueueLogEntry,
    agents: &[AgentRecord],
    calls: &[CallRecord],
    keys: &CallerKeys,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "insert into queue_events (at, kind, call_id, agent_id, actor_id, payload) \
         values (?, ?, ?, ?, ?, ?) returning id",
    )
    .bind(micros(entry.at))
    .bind(&entry.kind)
    .bind(&entry.call_id)
    .bind(entry.agent_id.map(|u| u.to_string()))
    .bind(entry.actor_id.map(|u| u.to_string()))
    .bind(entry.payload.to_string())
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    for a in agents {
        sqlx::query(
            "insert or replace into queue_agents \
             (agent_id, seat, skills, presence, break_reason, since, call_id, ringing) \
             values (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.agent_id.to_string())
        .bind(&a.seat)
        .bind(json(&a.skills)?)
        .bind(a.presence.as_str())
        .bind(&a.break_reason)
        .bind(micros(a.since))
        .bind(&a.call_id)
        .bind(a.ringing as i64)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for c in calls {
        sqlx::query(
            "insert or replace into queue_calls \
             (id, caller_phone, line, skills, offered_at, agent_id, answered_at, abandoned_at, \
              ended_at, wrap_ended_at, transfers, caller_key_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(keys.seal("caller_phone", &c.caller_phone))
        .bind(&c.line)
        .bind(json(&c.skills)?)
        .bind(micros(c.offered_at))
        .bind(c.agent_id.map(|u| u.to_string()))
        .bind(c.answered_at.map(micros))
        .bind(c.abandoned_at.map(micros))
        .bind(c.ended_at.map(micros))
        .bind(c.wrap_ended_at.map(micros))
        .bind(i64::from(c.transfers))
        .bind(keys.current_id())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    Ok(id)
}
