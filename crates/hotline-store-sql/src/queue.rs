//! The call queue: agent and call records, the event log, and period figures.

use crate::{Backend, Dialect, R, ReadRow, Sql, SqlStore, corrupt};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::queue::{ANSWER_TARGET_SECS, AgentRecord, CallRecord, DayTotals};
use hotline_store::{
    CallerKeys, IntakeLink, QueueAppend, QueueLoad, QueueLogEntry, QueueLogged, QueueStore, Result,
    StoreError,
};
use std::collections::BTreeMap;
use uuid::Uuid;

fn agent_from_row(row: &impl ReadRow) -> Result<AgentRecord> {
    let r = R(row);
    Ok(AgentRecord {
        agent_id: r.get("agent_id")?,
        seat: r.opt("seat")?,
        skills: r.json("skills")?,
        presence: r.named("presence")?,
        break_reason: r.opt("break_reason")?,
        since: r.get("since")?,
        call_id: r.opt("call_id")?,
        ringing: r.get("ringing")?,
    })
}

fn call_from_row(row: &impl ReadRow, keys: &CallerKeys) -> Result<CallRecord> {
    let r = R(row);
    let transfers: i32 = r.get("transfers")?;
    Ok(CallRecord {
        id: r.get("id")?,
        caller_phone: keys
            .open_value("caller_phone", r.opt("caller_phone")?, r.opt::<String>("caller_key_id")?.as_deref())?
            .unwrap_or_default(),
        line: r.get("line")?,
        skills: r.json("skills")?,
        offered_at: r.get("offered_at")?,
        agent_id: r.opt("agent_id")?,
        answered_at: r.opt("answered_at")?,
        abandoned_at: r.opt("abandoned_at")?,
        ended_at: r.opt("ended_at")?,
        wrap_ended_at: r.opt("wrap_ended_at")?,
        transfers: u32::try_from(transfers).map_err(|e| corrupt("transfers", e))?,
    })
}

/// The id of the log's last entry, 0 while it is empty.
async fn log_head<C: Dialect>(conn: &mut C) -> Result<i64> {
    let row = Sql::new("select coalesce(max(id), 0) as head from queue_events").fetch_one(conn).await?;
    R(&row).get("head")
}

/// The statements of `save_queue_change`, in the caller's transaction, which the backend
/// has serialised with every other append (see [`Backend::write_queue_log`]).
async fn queue_change<C: Dialect>(
    conn: &mut C,
    entry: &QueueLogEntry,
    agents: &[AgentRecord],
    calls: &[CallRecord],
    keys: &CallerKeys,
) -> Result<i64> {
    let row = Sql::new(
        "insert into queue_events (at, kind, call_id, agent_id, actor_id, payload) \
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(entry.at)
    .bind(&entry.kind)
    .bind(entry.call_id.clone())
    .bind(entry.agent_id)
    .bind(entry.actor_id)
    .bind(C::json(Some(&entry.payload))?)
    .fetch_one(conn)
    .await?;
    for a in agents {
        Sql::new(
            "insert into queue_agents \
             (agent_id, seat, skills, presence, break_reason, since, call_id, ringing) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (agent_id) do update set seat = excluded.seat, skills = excluded.skills, \
               presence = excluded.presence, break_reason = excluded.break_reason, \
               since = excluded.since, call_id = excluded.call_id, ringing = excluded.ringing",
        )
        .bind(a.agent_id)
        .bind(a.seat.clone())
        .bind(C::json(Some(&a.skills))?)
        .bind(a.presence.as_str())
        .bind(a.break_reason.clone())
        .bind(a.since)
        .bind(a.call_id.clone())
        .bind(a.ringing)
        .execute(conn)
        .await?;
    }
    for c in calls {
        Sql::new(
            "insert into queue_calls \
             (id, caller_phone, line, skills, offered_at, agent_id, answered_at, abandoned_at, \
              ended_at, wrap_ended_at, transfers, caller_key_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             on conflict (id) do update set agent_id = excluded.agent_id, \
               answered_at = excluded.answered_at, abandoned_at = excluded.abandoned_at, \
               ended_at = excluded.ended_at, wrap_ended_at = excluded.wrap_ended_at, \
               transfers = excluded.transfers",
        )
        .bind(&c.id)
        .bind(keys.seal("caller_phone", &c.caller_phone))
        .bind(&c.line)
        .bind(C::json(Some(&c.skills))?)
        .bind(c.offered_at)
        .bind(c.agent_id)
        .bind(c.answered_at)
        .bind(c.abandoned_at)
        .bind(c.ended_at)
        .bind(c.wrap_ended_at)
        .bind(i32::try_from(c.transfers).map_err(StoreError::other)?)
        .bind(keys.current_id())
        .execute(conn)
        .await?;
    }
    R(&row).get("id")
}

/// The statements of `append_queue_change`: the head compared, then the change.
async fn guarded_queue_change<C: Dialect>(
    conn: &mut C,
    expected_head: i64,
    entry: &QueueLogEntry,
    agents: &[AgentRecord],
    calls: &[CallRecord],
    keys: &CallerKeys,
) -> Result<QueueAppend> {
    let head = log_head(conn).await?;
    if head != expected_head {
        return Ok(QueueAppend::Behind { head });
    }
    Ok(QueueAppend::Appended(queue_change(conn, entry, agents, calls, keys).await?))
}

fn logged_from_row(row: &impl ReadRow, keys: &CallerKeys) -> Result<QueueLogged> {
    let r = R(row);
    Ok(QueueLogged {
        id: r.get("id")?,
        entry: QueueLogEntry {
            at: r.get("at")?,
            kind: r.get("kind")?,
            call_id: r.opt("call_id")?,
            agent_id: r.opt("agent_id")?,
            actor_id: r.opt("actor_id")?,
            payload: r.json("payload")?,
        },
        caller_phone: keys.open_value(
            "caller_phone",
            r.opt("caller_phone")?,
            r.opt::<String>("caller_key_id")?.as_deref(),
        )?,
    })
}

/// The statements of `load_queue_state`, in one consistent read.
async fn load<C: Dialect>(conn: &mut C, since: DateTime<Utc>, keys: &CallerKeys) -> Result<QueueLoad> {
    let head =
        Sql::new("select id, at from queue_events order by id desc limit 1").fetch_optional(conn).await?;
    let (head, head_at) = match head {
        Some(row) => (R(&row).get("id")?, Some(R(&row).get("at")?)),
        None => (0, None),
    };
    let agents = Sql::new("select * from queue_agents order by agent_id")
        .fetch_all(conn)
        .await?
        .iter()
        .map(agent_from_row)
        .collect::<Result<Vec<_>>>()?;
    let calls = Sql::new(
        "select * from queue_calls where offered_at >= $1 \
         union select * from queue_calls where abandoned_at is null and wrap_ended_at is null",
    )
    .bind(since)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| call_from_row(r, keys))
    .collect::<Result<Vec<_>>>()?;
    Ok(QueueLoad { head, head_at, agents, calls })
}

/// The figures of the calls offered in `[$2, $3)`: milliseconds truncate toward zero,
/// as chrono's `num_milliseconds` does.
fn totals_sql<C: Dialect>() -> String {
    let wait = C::micros_between("answered_at", "offered_at");
    let handle = C::micros_between("wrap_ended_at", "answered_at");
    format!(
        "select count(*) as offered, count(answered_at) as answered, \
         cast(coalesce(sum(case when answered_at is not null and {wait} / 1000 <= $1 then 1 else 0 end), 0) \
           as bigint) as in_target, \
         count(abandoned_at) as abandoned, \
         cast(coalesce(sum({wait} / 1000), 0) as bigint) as wait_ms, \
         cast(coalesce(sum(case when answered_at is not null and wrap_ended_at is not null then 1 else 0 end), 0) \
           as bigint) as handled, \
         cast(coalesce(sum({handle} / 1000), 0) as bigint) as handle_ms \
         from queue_calls where offered_at >= $2 and offered_at < $3"
    )
}

#[async_trait]
impl<B: Backend> QueueStore for SqlStore<B> {
    async fn save_queue_change(
        &self,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<i64> {
        let (entry, agents, calls, keys) =
            (entry.clone(), agents.to_vec(), calls.to_vec(), self.keys.clone());
        B::write_queue_log(self, move |c| {
            Box::pin(async move { queue_change(c, &entry, &agents, &calls, &keys).await })
        })
        .await
    }

    async fn append_queue_change(
        &self,
        expected_head: i64,
        entry: &QueueLogEntry,
        agents: &[AgentRecord],
        calls: &[CallRecord],
    ) -> Result<QueueAppend> {
        let (entry, agents, calls, keys) =
            (entry.clone(), agents.to_vec(), calls.to_vec(), self.keys.clone());
        B::write_queue_log(self, move |c| {
            Box::pin(
                async move { guarded_queue_change(c, expected_head, &entry, &agents, &calls, &keys).await },
            )
        })
        .await
    }

    async fn load_queue_state(&self, since: DateTime<Utc>) -> Result<QueueLoad> {
        let keys = self.keys.clone();
        B::read_consistent(self, move |c| Box::pin(async move { load(c, since, &keys).await })).await
    }

    async fn queue_log_since(&self, after: i64, limit: u32) -> Result<Vec<QueueLogged>> {
        Sql::new(
            "select e.id, e.at, e.kind, e.call_id, e.agent_id, e.actor_id, e.payload, \
             c.caller_phone, c.caller_key_id from queue_events e \
             left join queue_calls c on e.kind = 'offered' and c.id = e.call_id \
             where e.id > $1 order by e.id limit $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.read().await?)
        .await?
        .iter()
        .map(|r| logged_from_row(r, &self.keys))
        .collect()
    }

    async fn queue_log_head(&self) -> Result<i64> {
        log_head(&mut *self.read().await?).await
    }

    fn queue_poll(&self) -> std::time::Duration {
        B::QUEUE_POLL
    }

    async fn get_queue_call(&self, id: &str) -> Result<CallRecord> {
        let row = Sql::new("select * from queue_calls where id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("queue call", id))?;
        call_from_row(&row, &self.keys)
    }

    async fn list_queue_calls(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CallRecord>> {
        Sql::new("select * from queue_calls where offered_at >= $1 and offered_at < $2 order by offered_at, id limit $3")
            .bind(from)
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(|r| call_from_row(r, &self.keys))
            .collect()
    }

    async fn queue_totals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<DayTotals> {
        let row = Sql::new(totals_sql::<B::Conn>())
            .bind(ANSWER_TARGET_SECS * 1000)
            .bind(from)
            .bind(to)
            .fetch_one(&mut *self.read().await?)
            .await?;
        let r = R(&row);
        Ok(DayTotals {
            offered: r.count("offered")?,
            answered: r.count("answered")?,
            answered_in_target: r.count("in_target")?,
            abandoned: r.count("abandoned")?,
            answer_wait_ms: r.get("wait_ms")?,
            handled: r.count("handled")?,
            handle_ms: r.get("handle_ms")?,
        })
    }

    async fn intake_links(&self, telephony_call_ids: &[String]) -> Result<Vec<IntakeLink>> {
        if telephony_call_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "select c.telephony_call_id as tid, c.id as cid, o.id as oid from calls c \
             left join work_orders o on o.call_id = c.id where c.telephony_call_id",
        );
        q.push_any(telephony_call_ids.to_vec()).push(" order by c.call_time, c.id, o.created_at, o.id");
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        let mut links: BTreeMap<(String, Uuid), Vec<Uuid>> = BTreeMap::new();
        let mut order: Vec<(String, Uuid)> = Vec::new();
        for row in &rows {
            let r = R(row);
            let key = (r.get::<String>("tid")?, r.get::<Uuid>("cid")?);
            let entry = links.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                Vec::new()
            });
            if let Some(o) = r.opt("oid")? {
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
        let row =
            Sql::new("select count(*) as n from queue_events").fetch_one(&mut *self.read().await?).await?;
        R(&row).get("n")
    }
}
