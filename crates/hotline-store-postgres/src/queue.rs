//! The call queue on PostgreSQL: agent and call records, the event log, and period
//! figures.

use crate::PostgresStore;
use crate::rows::{R, corrupt, db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::queue::{ANSWER_TARGET_SECS, AgentRecord, CallRecord, DayTotals};
use hotline_store::{CallerKeys, IntakeLink, QueueLogEntry, QueueStore, Result, StoreError};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Microseconds between two timestamptz columns, as bigint.
macro_rules! us {
    ($a:literal, $b:literal) => {
        concat!("(extract(epoch from (", $a, " - ", $b, ")) * 1000000)::bigint")
    };
}

fn agent_from_row(row: &PgRow) -> Result<AgentRecord> {
    let r = R(row);
    Ok(AgentRecord {
        agent_id: r.get("agent_id")?,
        seat: r.get("seat")?,
        skills: r.get::<Json<Vec<String>>>("skills")?.0,
        presence: r.named("presence")?,
        break_reason: r.get("break_reason")?,
        since: r.get("since")?,
        call_id: r.get("call_id")?,
        ringing: r.get("ringing")?,
    })
}

fn call_from_row(row: &PgRow, keys: &CallerKeys) -> Result<CallRecord> {
    let r = R(row);
    let transfers: i32 = r.get("transfers")?;
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
        skills: r.get::<Json<Vec<String>>>("skills")?.0,
        offered_at: r.get("offered_at")?,
        agent_id: r.get("agent_id")?,
        answered_at: r.get("answered_at")?,
        abandoned_at: r.get("abandoned_at")?,
        ended_at: r.get("ended_at")?,
        wrap_ended_at: r.get("wrap_ended_at")?,
        transfers: u32::try_from(transfers).map_err(|e| corrupt("transfers", e))?,
    })
}

#[async_trait]
impl QueueStore for PostgresStore {
    async fn save_queue_change(
        &self,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<i64> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        let id: i64 = sqlx::query_scalar(
            "insert into queue_events (at, kind, call_id, agent_id, actor_id, payload) \
             values ($1, $2, $3, $4, $5, $6) returning id",
        )
        .bind(entry.at)
        .bind(&entry.kind)
        .bind(&entry.call_id)
        .bind(entry.agent_id)
        .bind(entry.actor_id)
        .bind(&entry.payload)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        for a in agents {
            sqlx::query(
                "insert into queue_agents \
                 (agent_id, seat, skills, presence, break_reason, since, call_id, ringing) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (agent_id) do update set seat = excluded.seat, skills = excluded.skills, \
                   presence = excluded.presence, break_reason = excluded.break_reason, \
                   since = excluded.since, call_id = excluded.call_id, ringing = excluded.ringing",
            )
            .bind(a.agent_id)
            .bind(&a.seat)
            .bind(Json(&a.skills))
            .bind(a.presence.as_str())
            .bind(&a.break_reason)
            .bind(a.since)
            .bind(&a.call_id)
            .bind(a.ringing)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        for c in calls {
            sqlx::query(
                "insert into queue_calls \
                 (id, caller_phone, line, skills, offered_at, agent_id, answered_at, abandoned_at, \
                  ended_at, wrap_ended_at, transfers, caller_key_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 on conflict (id) do update set agent_id = excluded.agent_id, \
                   answered_at = excluded.answered_at, abandoned_at = excluded.abandoned_at, \
                   ended_at = excluded.ended_at, wrap_ended_at = excluded.wrap_ended_at, \
                   transfers = excluded.transfers",
            )
            .bind(&c.id)
            .bind(self.caller_keys().seal("caller_phone", &c.caller_phone))
            .bind(&c.line)
            .bind(Json(&c.skills))
            .bind(c.offered_at)
            .bind(c.agent_id)
            .bind(c.answered_at)
            .bind(c.abandoned_at)
            .bind(c.ended_at)
            .bind(c.wrap_ended_at)
            .bind(i32::try_from(c.transfers).map_err(StoreError::other)?)
            .bind(self.caller_keys().current_id())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(id)
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
            "select * from queue_calls where offered_at >= $1 \
             union select * from queue_calls where abandoned_at is null and wrap_ended_at is null",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await
        .map_err(db)?
        .iter()
        .map(|r| call_from_row(r, self.caller_keys()))
        .collect::<Result<Vec<_>>>()?;
        Ok((agents, calls))
    }

    async fn get_queue_call(&self, id: &str) -> Result<CallRecord> {
        let row = sqlx::query("select * from queue_calls where id = $1")
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
        sqlx::query(
            "select * from queue_calls where offered_at >= $1 and offered_at < $2 order by offered_at, id limit $3",
        )
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(db)?
        .iter()
        .map(|r| call_from_row(r, self.caller_keys()))
        .collect()
    }

    async fn queue_totals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<DayTotals> {
        let sql = concat!(
            "select count(*) as offered, count(answered_at) as answered, ",
            "coalesce(sum(case when answered_at is not null and ",
            us!("answered_at", "offered_at"),
            " / 1000 <= $1 then 1 else 0 end), 0)::bigint as in_target, ",
            "count(abandoned_at) as abandoned, ",
            "coalesce(sum(",
            us!("answered_at", "offered_at"),
            " / 1000), 0)::bigint as wait_ms, ",
            "coalesce(sum(case when answered_at is not null and wrap_ended_at is not null then 1 else 0 end), 0)::bigint as handled, ",
            "coalesce(sum(",
            us!("wrap_ended_at", "answered_at"),
            " / 1000), 0)::bigint as handle_ms ",
            "from queue_calls where offered_at >= $2 and offered_at < $3"
        );
        let row = sqlx::query(sql)
            .bind(ANSWER_TARGET_SECS * 1000)
            .bind(from)
            .bind(to)
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
        let rows = sqlx::query(
            "select c.telephony_call_id as tid, c.id as cid, o.id as oid from calls c \
             left join work_orders o on o.call_id = c.id where c.telephony_call_id = any($1) \
             order by c.call_time, c.id, o.created_at, o.id",
        )
        .bind(telephony_call_ids)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        let mut links: BTreeMap<(String, Uuid), Vec<Uuid>> = BTreeMap::new();
        let mut order: Vec<(String, Uuid)> = Vec::new();
        for row in &rows {
            let r = R(row);
            let key = (r.get::<String>("tid")?, r.get::<Uuid>("cid")?);
            let entry = links.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                Vec::new()
            });
            if let Some(o) = r.get::<Option<Uuid>>("oid")? {
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
        sqlx::query_scalar("select count(*) from queue_events").fetch_one(self.pool()).await.map_err(db)
    }
}
