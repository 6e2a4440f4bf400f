//! New orders written in groups (group commit at the application).
//!
//! Every new order updates its day's counter row, and holds that row's lock through its
//! commit and the WAL sync: creations queue behind each other's syncs, and one slow sync
//! delays every creation queued behind it. So one task per store writes the creations:
//! it takes the first waiting one and every other that arrived while the previous group
//! was being written (at most [`MAX_GROUP`], of one day), and writes them in one
//! statement, its own transaction: the counter moves by the group's size and each order
//! takes the next number, so a day's numbers still have no gaps, and the group pays for
//! one counter update and one sync. A group of one is written by the statement of a
//! single creation ([`insert_order`]); a larger group by one statement whose text does
//! not depend on its size (a typed array per column), so PostgreSQL plans it once per
//! connection.
//!
//! The statement also registers the group's request ids (see [`hotline_store::RequestKey`]).
//! If it fails (a request id registered already, a conflict, a lost connection),
//! nothing of it was written, and each creation is written again alone, so each gets its
//! own answer as if it had been sent alone.

use crate::{PostgresStore, push_register};
use chrono::{DateTime, Utc};
use hotline_domain::{EventDraft, State, WorkOrder};
use hotline_store::{Event, EventSnapshot, RequestKey, Result, StoreError, order_day};
use hotline_store_sql::{Arg, EVENT_COLUMNS, EVENT_PAYLOAD, R, Sql, db, event_values, order_values};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// The most creations written in one statement.
pub(crate) const MAX_GROUP: usize = 64;

pub(crate) type Written = Result<(WorkOrder, Vec<Event>)>;

/// One creation waiting to be written.
pub(crate) struct Creation {
    pub order: WorkOrder,
    pub drafts: Vec<EventDraft>,
    pub request: Option<RequestKey>,
    pub reply: oneshot::Sender<Written>,
}

/// Writes a new order through the store's writer of creations, which groups those that
/// arrive together; the answer is as [`insert_order`]'s.
pub(crate) async fn write_order(
    store: &PostgresStore,
    order: &WorkOrder,
    drafts: &[EventDraft],
    request: Option<&RequestKey>,
) -> Written {
    let Some(writer) = &store.backend().creations else {
        return insert_order(store, order, drafts, request).await;
    };
    let (reply, answer) = oneshot::channel();
    let job = Creation { order: order.clone(), drafts: drafts.to_vec(), request: request.cloned(), reply };
    if writer.send(job).await.is_err() {
        // The writer is gone (the runtime is shutting down): write it here.
        return insert_order(store, order, drafts, request).await;
    }
    answer.await.unwrap_or_else(|_| Err(db(sqlx::Error::WorkerCrashed)))
}

/// The order, its events and their outbox rows, the day's number, and the request's
/// registration, in one statement (its own transaction, one round trip). The day's
/// counter row is the one row every new order updates; its lock is held from the
/// statement's start to its commit and never across a round trip to the server.
pub(crate) async fn insert_order(
    store: &PostgresStore,
    order: &WorkOrder,
    drafts: &[EventDraft],
    request: Option<&RequestKey>,
) -> Written {
    let day = order_day(order.created_at);
    let mut stored = order.clone();
    stored.version = drafts.len() as i64;
    let values = order_values::<PgConnection>(&stored, store.caller_keys())?;
    let mut q = Sql::new("with c as (insert into order_counters (day, value) values (");
    q.push_bind(&day);
    q.push(
        ", 1) on conflict (day) do update set value = order_counters.value + 1 returning value), \
         o as (insert into work_orders (",
    );
    q.push(values.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", "));
    q.push(") select ");
    for (i, (column, v)) in values.into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        if column == "number" {
            q.push("'GD' || ").push_bind(&day).push(
                " || case when c.value >= 1000000 then c.value::text else lpad(c.value::text, 6, '0') end",
            );
        } else {
            q.push_bind(v);
        }
    }
    // The events in one multi-row insert, so their ids follow their order.
    q.push(format!(
        " from c returning number), e as (insert into work_order_events ({EVENT_COLUMNS}) values "
    ));
    // The events written together carry the order as the command left it.
    let snapshot = EventSnapshot::of(&stored, None);
    for (i, draft) in drafts.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push("(");
        let values = event_values::<PgConnection>(stored.id, i as i64 + 1, draft, None, &snapshot)?;
        for (j, v) in values.into_iter().enumerate() {
            if j > 0 {
                q.push(", ");
            }
            if j == EVENT_PAYLOAD && draft.names_number() {
                // The number the statement assigns (`EventDraft::numbered`).
                q.push("jsonb_set(").push_bind(v).push(", '{number}', to_jsonb((select number from o)))");
            } else {
                q.push_bind(v);
            }
        }
        q.push(")");
    }
    q.push(" returning id, seq), x as (insert into event_outbox (event_id) select id from e)");
    if let Some(key) = request {
        q.push(", ");
        push_register(&mut q, store.caller_keys(), key, "order_id");
        q.push_bind(stored.id).push(" from o)");
    }
    q.push(" select o.number, e.id, e.seq from o, e order by e.seq");
    let rows = q.fetch_all(&mut *store.read().await?).await?;
    let mut events = Vec::with_capacity(drafts.len());
    for (row, draft) in rows.iter().zip(drafts) {
        let r = R(row);
        stored.number = r.get("number")?;
        let draft = draft.numbered(&stored.number);
        events.push(Event::stored(r.get("id")?, stored.id, r.get("seq")?, &draft));
    }
    if events.len() != drafts.len() {
        return Err(StoreError::other(format!(
            "create_order: {} events written for {} drafts",
            events.len(),
            drafts.len()
        )));
    }
    store.notify_events_written();
    Ok((stored, events))
}

/// Starts the writer of `store`'s creations; it ends when every sender is dropped.
pub(crate) fn start(store: PostgresStore) -> mpsc::Sender<Creation> {
    let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
    tokio::spawn(run(store, rx));
    tx
}

async fn run(store: PostgresStore, mut rx: mpsc::Receiver<Creation>) {
    let mut held: Option<Creation> = None;
    loop {
        let first = match held.take() {
            Some(c) => c,
            None => match rx.recv().await {
                Some(c) => c,
                None => return,
            },
        };
        let day = order_day(first.order.created_at);
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                // Another day's creation starts the next group.
                Ok(c) if order_day(c.order.created_at) != day => {
                    held = Some(c);
                    break;
                }
                Ok(c) => group.push(c),
                Err(_) => break,
            }
        }
        write(&store, group).await;
    }
}

async fn write(store: &PostgresStore, group: Vec<Creation>) {
    // A creation whose caller stopped waiting (its deadline passed) is not written: it
    // was never acknowledged, and a retry finds nothing of it.
    let mut group: Vec<Creation> = group.into_iter().filter(|c| !c.reply.is_closed()).collect();
    if group.len() > 1 {
        match insert_group(store, &group).await {
            Ok(written) => {
                for (c, w) in group.into_iter().zip(written) {
                    let _ = c.reply.send(Ok(w));
                }
                store.notify_events_written();
                return;
            }
            // The database cannot be reached: no creation of the group is tried again,
            // so that each fails now, not after a wait of its own.
            Err(StoreError::Unavailable(why)) => {
                for c in group.drain(..) {
                    let _ = c.reply.send(Err(StoreError::Unavailable(why.clone())));
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, size = group.len(), "a group of creations failed; writing each alone")
            }
        }
    }
    let mut unreachable: Option<String> = None;
    for c in group {
        let written = match &unreachable {
            Some(why) => Err(StoreError::Unavailable(why.clone())),
            None => insert_order(store, &c.order, &c.drafts, c.request.as_ref()).await,
        };
        if let Err(StoreError::Unavailable(why)) = &written {
            unreachable = Some(why.clone());
        }
        let _ = c.reply.send(written);
    }
}

/// The values of one column across a group, bound as one typed array.
enum Column {
    Text(Vec<Option<String>>),
    Int8(Vec<Option<i64>>),
    Int4(Vec<Option<i32>>),
    Bool(Vec<Option<bool>>),
    Uuid(Vec<Option<Uuid>>),
    Time(Vec<Option<DateTime<Utc>>>),
    Dec(Vec<Option<Decimal>>),
    Json(Vec<Option<serde_json::Value>>),
}

impl Column {
    fn of(v: &Arg) -> Result<Column> {
        Ok(match v {
            Arg::Text(_) => Column::Text(vec![]),
            Arg::I64(_) => Column::Int8(vec![]),
            Arg::I32(_) => Column::Int4(vec![]),
            Arg::Bool(_) => Column::Bool(vec![]),
            Arg::Uuid(_) => Column::Uuid(vec![]),
            Arg::Time(_) => Column::Time(vec![]),
            Arg::Dec(_) => Column::Dec(vec![]),
            Arg::Json(_) => Column::Json(vec![]),
            other => {
                return Err(StoreError::other(format!("no array column for an order's value {other:?}")));
            }
        })
    }

    fn push(&mut self, v: Arg) -> Result<()> {
        match (self, v) {
            (Column::Text(c), Arg::Text(v)) => c.push(v),
            (Column::Int8(c), Arg::I64(v)) => c.push(v),
            (Column::Int4(c), Arg::I32(v)) => c.push(v),
            (Column::Bool(c), Arg::Bool(v)) => c.push(v),
            (Column::Uuid(c), Arg::Uuid(v)) => c.push(v),
            (Column::Time(c), Arg::Time(v)) => c.push(v),
            (Column::Dec(c), Arg::Dec(v)) => c.push(v),
            (Column::Json(c), Arg::Json(v)) => c.push(v),
            _ => return Err(StoreError::other("a column's values differ in type within a group")),
        }
        Ok(())
    }

    fn array_type(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::Int8(_) => "int8[]",
            Column::Int4(_) => "int4[]",
            Column::Bool(_) => "bool[]",
            Column::Uuid(_) => "uuid[]",
            Column::Time(_) => "timestamptz[]",
            Column::Dec(_) => "numeric[]",
            Column::Json(_) => "jsonb[]",
        }
    }

    fn bind(self, qb: &mut QueryBuilder<'_, Postgres>) {
        match self {
            Column::Text(v) => qb.push_bind(v),
            Column::Int8(v) => qb.push_bind(v),
            Column::Int4(v) => qb.push_bind(v),
            Column::Bool(v) => qb.push_bind(v),
            Column::Uuid(v) => qb.push_bind(v),
            Column::Time(v) => qb.push_bind(v),
            Column::Dec(v) => qb.push_bind(v),
            Column::Json(v) => qb.push_bind(v),
        };
    }
}

/// Pushes `unnest(array, ...) with ordinality as alias (names..., k)`.
fn push_unnest(qb: &mut QueryBuilder<'_, Postgres>, columns: Vec<(&'static str, Column)>, alias: &str) {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    qb.push("unnest(");
    for (i, (_, column)) in columns.into_iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        let ty = column.array_type();
        column.bind(qb);
        qb.push("::").push(ty);
    }
    qb.push(format!(") with ordinality as {alias} ({}, k)", names.join(", ")));
}

/// The group's orders (all of one day), their events and outbox rows, and the day's
/// numbers, in one statement of a fixed text.
async fn insert_group(store: &PostgresStore, group: &[Creation]) -> Result<Vec<(WorkOrder, Vec<Event>)>> {
    let day = order_day(group[0].order.created_at);
    let n = group.len() as i64;
    // The orders, a typed array per column (the number comes from the counter).
    let mut stored: Vec<WorkOrder> = Vec::with_capacity(group.len());
    let mut columns: Vec<(&'static str, Column)> = Vec::new();
    for c in group {
        let mut order = c.order.clone();
        order.version = c.drafts.len() as i64;
        let mut values = order_values::<PgConnection>(&order, store.caller_keys())?;
        values.retain(|(name, _)| *name != "number");
        if columns.is_empty() {
            columns = values.iter().map(|(name, v)| Ok((*name, Column::of(v)?))).collect::<Result<_>>()?;
        }
        if columns.len() != values.len() {
            return Err(StoreError::other("orders of a group have different columns"));
        }
        for ((name, column), (value_name, v)) in columns.iter_mut().zip(values) {
            if *name != value_name {
                return Err(StoreError::other("orders of a group have different columns"));
            }
            column.push(v)?;
        }
        stored.push(order);
    }
    // Their events, in the group's order, so event ids follow it.
    let mut ev: [Vec<Option<String>>; 11] = Default::default();
    let (mut ev_order, mut ev_seq, mut ev_actor, mut ev_at, mut ev_payload, mut ev_numbered) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (c, order) in group.iter().zip(&stored) {
        let snapshot = EventSnapshot::of(order, None);
        for (i, draft) in c.drafts.iter().enumerate() {
            ev_order.push(order.id);
            ev_seq.push(i as i64 + 1);
            ev_actor.push(draft.actor_id);
            ev_at.push(draft.at);
            ev_payload.push(draft.payload.clone());
            ev_numbered.push(Some(draft.names_number()));
            let texts = [
                Some(draft.kind.as_str().to_owned()),
                Some(draft.actor_role.as_str().to_owned()),
                draft.from_state.map(|s| State::as_str(s).to_owned()),
                Some(draft.to_state.as_str().to_owned()),
                None,
                Some(snapshot.county_id.clone()),
                Some(snapshot.township_id.clone()),
                Some(snapshot.village_id.clone()),
                snapshot.handling_unit_id.clone(),
                snapshot.assignee_id.clone(),
                snapshot.assignee_before.clone(),
            ];
            for (column, value) in ev.iter_mut().zip(texts) {
                column.push(value);
            }
        }
    }

    let order_names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let mut qb = QueryBuilder::<Postgres>::new("with c as (insert into order_counters (day, value) values (");
    qb.push_bind(day.clone()).push(", ").push_bind(n);
    qb.push(
        ") on conflict (day) do update set value = order_counters.value + excluded.value returning value), ",
    );
    qb.push("o as (insert into work_orders (").push(order_names.join(", ")).push(", number) select ");
    qb.push(order_names.iter().map(|name| format!("u.{name}")).collect::<Vec<_>>().join(", "));
    // The k-th of the group takes the k-th of the numbers the counter gave.
    qb.push(", 'GD' || ").push_bind(day.clone()).push(
        " || case when g.value - g.n + u.k >= 1000000 then (g.value - g.n + u.k)::text \
         else lpad((g.value - g.n + u.k)::text, 6, '0') end from ",
    );
    push_unnest(&mut qb, columns, "u");
    qb.push(", (select value, ")
        .push_bind(n)
        .push("::int8 as n from c) g order by u.k returning id, number), ");
    qb.push(
        "e as (insert into work_order_events (order_id, seq, kind, actor_id, actor_role, at, from_state, \
         to_state, payload, request_id, county_id, township_id, village_id, handling_unit_id, assignee_id, \
         assignee_before) select order_id, seq, kind, actor_id, actor_role, at, from_state, to_state, \
         case when v.numbered then jsonb_set(v.payload, '{number}', to_jsonb(o.number)) else v.payload end, \
         request_id, county_id, township_id, village_id, handling_unit_id, assignee_id, \
         assignee_before from ",
    );
    let [kind, role, from_state, to_state, rid, county, township, village, unit, assignee, before] = ev;
    push_unnest(
        &mut qb,
        vec![
            ("order_id", Column::Uuid(ev_order.into_iter().map(Some).collect())),
            ("seq", Column::Int8(ev_seq.into_iter().map(Some).collect())),
            ("kind", Column::Text(kind)),
            ("actor_id", Column::Uuid(ev_actor.into_iter().map(Some).collect())),
            ("actor_role", Column::Text(role)),
            ("at", Column::Time(ev_at.into_iter().map(Some).collect())),
            ("from_state", Column::Text(from_state)),
            ("to_state", Column::Text(to_state)),
            ("payload", Column::Json(ev_payload.into_iter().map(Some).collect())),
            ("request_id", Column::Text(rid)),
            ("county_id", Column::Text(county)),
            ("township_id", Column::Text(township)),
            ("village_id", Column::Text(village)),
            ("handling_unit_id", Column::Text(unit)),
            ("assignee_id", Column::Text(assignee)),
            ("assignee_before", Column::Text(before)),
            // Whether the payload takes the number the statement assigns (`EventDraft::numbered`).
            ("numbered", Column::Bool(ev_numbered)),
        ],
        "v",
    );
    qb.push(
        " join o on o.id = v.order_id order by v.k returning id, order_id, seq), \
         x as (insert into event_outbox (event_id) select id from e), ",
    );
    // The request ids of those that carry one, registered by the same statement.
    let (mut users, mut rids, mut fingerprints, mut orders) = (vec![], vec![], vec![], vec![]);
    for c in group {
        if let Some(key) = &c.request {
            users.push(key.user_id);
            rids.push(key.id.clone());
            fingerprints.push(store.caller_keys().request_fingerprint(&key.digest));
            orders.push(c.order.id);
        }
    }
    qb.push(
        "r as (insert into request_ids (user_id, request_id, fingerprint, order_id) select * from unnest(",
    );
    qb.push_bind(users).push("::uuid[], ").push_bind(rids).push("::text[], ");
    qb.push_bind(fingerprints).push("::bytea[], ").push_bind(orders).push("::uuid[])) ");
    qb.push(
        "select o.id as order_id, o.number, e.id, e.seq from o join e on e.order_id = o.id order by e.id",
    );
    let rows = qb.build().fetch_all(store.pool()).await.map_err(db)?;

    let mut numbers: HashMap<Uuid, String> = HashMap::new();
    let mut ids: HashMap<(Uuid, i64), i64> = HashMap::new();
    for row in &rows {
        let r = R(row);
        let order_id: Uuid = r.get("order_id")?;
        numbers.insert(order_id, r.get("number")?);
        ids.insert((order_id, r.get("seq")?), r.get("id")?);
    }
    let mut out = Vec::with_capacity(group.len());
    for (c, mut order) in group.iter().zip(stored) {
        order.number = numbers
            .remove(&order.id)
            .ok_or_else(|| StoreError::other(format!("order `{}` not written in its group", order.id)))?;
        let mut events = Vec::with_capacity(c.drafts.len());
        for (i, draft) in c.drafts.iter().enumerate() {
            let seq = i as i64 + 1;
            let id = ids.get(&(order.id, seq)).copied().ok_or_else(|| {
                StoreError::other(format!("event {seq} of order `{}` not written in its group", order.id))
            })?;
            events.push(Event::stored(id, order.id, seq, &draft.numbered(&order.number)));
        }
        out.push((order, events));
    }
    Ok(out)
}
