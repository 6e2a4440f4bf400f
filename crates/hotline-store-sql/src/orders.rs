//! Users, calls, work orders and their events, request ids, and the write probe: the
//! [`Store`] trait.

use crate::records::{
    EVENT_COLUMNS, ORDER_IMMUTABLE, call_from_row, call_values, event_from_row, event_values, order_from_row,
    order_values, user_from_row,
};
use crate::{Arg, Backend, Dialect, R, ReadRow, Sql, SqlStore, directory, page_cursor};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::{EventDraft, EventKind, Phone, Place, State, UnitLevel, WorkOrder};
use hotline_store::{
    Call, CallerKeys, Directory, Event, EventSnapshot, ImportSummary, MAX_PAGE_SIZE, OrderCursor,
    OrderFilter, Page, PageRequest, Person, PersonFilter, Recorded, RequestKey, Result, SchemaVersions,
    Station, Store, StoreError, TargetStatus, Unit, User, UserFilter, Wrote, WroteColumns, encode_cursor,
    order_day, order_number, repeat, repeated_call, repeated_order, repeated_user, username_key,
};
use uuid::Uuid;

/// Registers a client's request id with what its write made, in that write's
/// transaction; an id registered already breaks the table's key (`Conflict`).
pub(crate) async fn register<C: Dialect>(
    conn: &mut C,
    keys: &CallerKeys,
    key: &RequestKey,
    wrote: Wrote,
) -> Result<()> {
    let c = wrote.columns();
    Sql::new(
        "insert into request_ids \
         (user_id, request_id, fingerprint, call_id, order_id, event_id, created_user_id, ledger_kind, ledger_id, \
          payment_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(key.user_id)
    .bind(&key.id)
    .bind(keys.request_fingerprint(&key.digest))
    .bind(c.call_id)
    .bind(c.order_id)
    .bind(c.event_id)
    .bind(c.created_user_id)
    .bind(c.ledger_kind)
    .bind(c.ledger_id)
    .bind(c.payment_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends an event with its snapshot, and its outbox row, in the caller's transaction.
pub(crate) async fn insert_event<C: Dialect>(
    conn: &mut C,
    order_id: Uuid,
    seq: i64,
    draft: &EventDraft,
    step_id: Option<&str>,
    snapshot: &EventSnapshot,
) -> Result<Event> {
    let mut events =
        insert_events(conn, order_id, seq, std::slice::from_ref(draft), step_id, snapshot).await?;
    events.pop().ok_or_else(|| StoreError::other("an insert returned no event id"))
}

/// Appends events of one order, numbered from `first_seq`, with the snapshot they
/// share, and their outbox rows, in the caller's transaction: two statements however
/// many there are.
pub(crate) async fn insert_events<C: Dialect>(
    conn: &mut C,
    order_id: Uuid,
    first_seq: i64,
    drafts: &[EventDraft],
    step_id: Option<&str>,
    snapshot: &EventSnapshot,
) -> Result<Vec<Event>> {
    let mut rows = Vec::with_capacity(drafts.len());
    for (seq, draft) in (first_seq..).zip(drafts) {
        rows.push(event_values::<C>(order_id, seq, draft, step_id, snapshot)?);
    }
    let mut q = Sql::new(format!("insert into work_order_events ({EVENT_COLUMNS}) "));
    q.push_rows(rows).push(" returning id, seq");
    // The order of the rows returned is not promised: each is matched by its number.
    let mut ids = vec![None; drafts.len()];
    for row in q.fetch_all(conn).await? {
        let r = R(&row);
        let (id, seq): (i64, i64) = (r.get("id")?, r.get("seq")?);
        if let Some(slot) = usize::try_from(seq - first_seq).ok().and_then(|i| ids.get_mut(i)) {
            *slot = Some(id);
        }
    }
    let ids: Vec<i64> = ids
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| StoreError::other("an insert returned too few event ids"))?;
    let mut q = Sql::new("insert into event_outbox (event_id) ");
    q.push_rows(ids.iter().map(|&id| [Arg::from(id)]));
    q.execute(conn).await?;
    Ok((first_seq..)
        .zip(drafts)
        .zip(ids)
        .map(|((seq, draft), id)| Event::stored(id, order_id, seq, draft))
        .collect())
}

/// Appends `column = $k, ...` for every column of `next` an update writes.
pub fn push_order_assignments<C: Dialect>(q: &mut Sql<C>, next: &WorkOrder, keys: &CallerKeys) -> Result<()> {
    let mut first = true;
    for (column, value) in order_values::<C>(next, keys)? {
        if ORDER_IMMUTABLE.contains(&column) {
            continue;
        }
        if !first {
            q.push(", ");
        }
        first = false;
        q.push(column).push(" = ").push_bind(value);
    }
    Ok(())
}

/// The order's version when it exists: what a guarded update that changed nothing
/// answers, `Stale` or `NotFound`.
pub async fn not_updated<C: Dialect>(conn: &mut C, id: Uuid, expected: i64) -> StoreError {
    let exists =
        Sql::new("select version from work_orders where id = $1").bind(id).fetch_optional(conn).await;
    match exists {
        Ok(Some(_)) => StoreError::Stale { id, expected },
        Ok(None) => StoreError::not_found("work order", id),
        Err(e) => e,
    }
}

pub(crate) async fn record_call<B: Backend>(
    store: &SqlStore<B>,
    call: &Call,
    request: Option<&RequestKey>,
) -> Result<Recorded<Call>> {
    // A repeat is recognised by the registry's key, so a first attempt pays for no
    // lookup.
    let values = call_values(call, &store.keys);
    let (call_id, keys, key) = (call.id, store.keys.clone(), request.cloned());
    let written = store
        .write(move |c| {
            Box::pin(async move {
                let mut q = Sql::new("");
                q.push_insert("calls", values);
                q.execute(c).await?;
                if let Some(key) = &key {
                    register(c, &keys, key, Wrote::Call(call_id)).await?;
                }
                Ok(())
            })
        })
        .await;
    match written {
        Ok(()) => Ok(Recorded { value: call.clone(), created: true }),
        Err(StoreError::Conflict(_)) => repeated_call(store, call, request).await,
        Err(e) => Err(e),
    }
}

/// Appends `insert into calls (..) select .. returning id, township_id, county_id`: the
/// call placed in its village's township and county, read by the insert itself, which
/// inserts nothing when `call.place.village_id` is not a village of the directory.
pub fn push_insert_call_in_village<C: Dialect>(q: &mut Sql<C>, call: &Call, keys: &CallerKeys) {
    let mut values = call_values(call, keys);
    values.retain(|(column, _)| !matches!(*column, "county_id" | "township_id"));
    let names: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    q.push("insert into calls (").push(names.join(", ")).push(", township_id, county_id) select ");
    for (_, v) in values {
        q.push_bind(v).push(", ");
    }
    q.push(
        "p.township_id, p.county_id from (select t.id as township_id, t.parent_id as county_id \
         from units v join units t on t.id = v.parent_id where v.id = ",
    );
    q.push_bind(&call.place.village_id);
    q.push(" and v.level = 'village' and t.parent_id is not null) p returning id, township_id, county_id");
}

/// The call as [`push_insert_call_in_village`] wrote it, from the row it returned (none:
/// the village is not one of the directory).
pub fn call_placed(call: &Call, row: Option<&impl ReadRow>) -> Result<Call> {
    let village_id = &call.place.village_id;
    let Some(row) = row else { return Err(StoreError::not_found("village", village_id)) };
    let r = R(row);
    let place = Place {
        county_id: r.get("county_id")?,
        township_id: r.get("township_id")?,
        village_id: village_id.clone(),
    };
    Ok(Call { place, ..call.clone() })
}

pub(crate) async fn record_call_in_village<B: Backend>(
    store: &SqlStore<B>,
    call: &Call,
    request: Option<&RequestKey>,
) -> Result<Recorded<Call>> {
    let mut q = Sql::new("");
    push_insert_call_in_village(&mut q, call, &store.keys);
    let (placed, keys, key) = (call.clone(), store.keys.clone(), request.cloned());
    let written = store
        .write(move |c| {
            Box::pin(async move {
                let placed = call_placed(&placed, q.fetch_optional(c).await?.as_ref())?;
                if let Some(key) = &key {
                    register(c, &keys, key, Wrote::Call(placed.id)).await?;
                }
                Ok(placed)
            })
        })
        .await;
    match written {
        Ok(placed) => Ok(Recorded { value: placed, created: true }),
        Err(StoreError::Conflict(_)) => repeated_call(store, call, request).await,
        Err(e) => Err(e),
    }
}

/// The columns of a target's status (`target_unit_exists`, `target_person_active`,
/// `target_directory_version`) for the unit and person bound at `unit` and `person`.
fn target_columns(unit: &str, person: &str) -> String {
    format!(
        "exists (select 1 from units where id = {unit}) as target_unit_exists, \
         (select active and disqualified_at is null from people where id = {person}) as target_person_active, \
         (select version from directory_version where id = 1) as target_directory_version"
    )
}

/// A target's status from a row with [`target_columns`].
fn target_status_from(row: &impl ReadRow) -> Result<TargetStatus> {
    let r = R(row);
    Ok(TargetStatus {
        unit_exists: r.get("target_unit_exists")?,
        person_active: r.opt("target_person_active")?,
        directory_version: r.get("target_directory_version")?,
    })
}

/// One read: the target's status rides along with the call's row.
pub(crate) async fn call_and_target<B: Backend>(
    store: &SqlStore<B>,
    call_id: Uuid,
    target: Option<(&str, Option<&str>)>,
) -> Result<(Call, Option<TargetStatus>)> {
    let (unit, person) = target.map_or((None, None), |(u, p)| (Some(u), p));
    let row = Sql::new(format!("select c.*, {} from calls c where c.id = $1", target_columns("$2", "$3")))
        .bind(call_id)
        .bind(unit)
        .bind(person)
        .fetch_optional(&mut *store.read().await?)
        .await?;
    let Some(row) = row else { return Err(StoreError::not_found("call", call_id)) };
    let call = call_from_row(&row, &store.keys)?;
    let status = match target {
        Some(_) => Some(target_status_from(&row)?),
        None => None,
    };
    Ok((call, status))
}

/// The order, its events and their outbox rows, and the day's number, in one write.
pub(crate) async fn write_order<B: Backend>(
    store: &SqlStore<B>,
    order: &WorkOrder,
    drafts: &[EventDraft],
    request: Option<&RequestKey>,
) -> Result<(WorkOrder, Vec<Event>)> {
    let (order, drafts, keys, request) =
        (order.clone(), drafts.to_vec(), store.keys.clone(), request.cloned());
    let written = store
        .write(move |c| {
            Box::pin(async move {
                let day = order_day(order.created_at);
                let row = Sql::new(
                    "insert into order_counters (day, value) values ($1, 1) \
                     on conflict (day) do update set value = order_counters.value + 1 \
                     returning value",
                )
                .bind(&day)
                .fetch_one(c)
                .await?;
                let mut stored = order;
                stored.number = order_number(&day, R(&row).get("value")?);
                stored.version = drafts.len() as i64;
                let mut q = Sql::new("");
                q.push_insert("work_orders", order_values::<B::Conn>(&stored, &keys)?);
                q.execute(c).await?;
                if let Some(key) = &request {
                    register(c, &keys, key, Wrote::Order(stored.id)).await?;
                }
                // The events written together carry the order as the command left it.
                let snapshot = EventSnapshot::of(&stored, None);
                let drafts: Vec<EventDraft> = drafts.iter().map(|d| d.numbered(&stored.number)).collect();
                let events = insert_events(c, stored.id, 1, &drafts, None, &snapshot).await?;
                Ok((stored, events))
            })
        })
        .await?;
    store.notify_events_written();
    Ok(written)
}

pub(crate) async fn save_transition<B: Backend>(
    store: &SqlStore<B>,
    expected_version: i64,
    next: &WorkOrder,
    event: &EventDraft,
    step_id: Option<&str>,
    request: Option<&RequestKey>,
) -> Result<Event> {
    let (next, event, keys) = (next.clone(), event.clone(), store.keys.clone());
    let (step_id, request) = (step_id.map(str::to_owned), request.cloned());
    let stored = store
        .write(move |c| {
            Box::pin(async move {
                // The write lock is held from here: what is read is the version replaced below.
                let before = Sql::new("select assignee_id from work_orders where id = $1")
                    .bind(next.id)
                    .fetch_optional(c)
                    .await?;
                let assignee_before =
                    before.as_ref().map(|row| R(row).opt::<String>("assignee_id")).transpose()?.flatten();
                let mut q = Sql::new("update work_orders set ");
                push_order_assignments(&mut q, &next, &keys)?;
                q.push(" where id = ").push_bind(next.id);
                q.push(" and version = ").push_bind(expected_version);
                if q.execute(c).await? == 0 {
                    return Err(not_updated(c, next.id, expected_version).await);
                }
                let snapshot = EventSnapshot::of(&next, assignee_before);
                let stored =
                    match insert_event(c, next.id, next.version, &event, step_id.as_deref(), &snapshot).await
                    {
                        Ok(e) => e,
                        Err(StoreError::Conflict(_)) => {
                            return Err(StoreError::Conflict(format!(
                                "request id already used for an event of work order {}",
                                next.id
                            )));
                        }
                        Err(e) => return Err(e),
                    };
                if let Some(key) = &request {
                    let wrote = Wrote::Action { order_id: next.id, event_id: stored.id };
                    match register(c, &keys, key, wrote).await {
                        Ok(()) => {}
                        Err(StoreError::Conflict(_)) => {
                            return Err(StoreError::RequestReused { request_id: key.id.clone() });
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(stored)
            })
        })
        .await?;
    store.notify_events_written();
    Ok(stored)
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    // ---- directory ---------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(units = dir.units.len(), people = dir.people.len()))]
    async fn import_directory(&self, dir: &Directory) -> Result<ImportSummary> {
        // Alone: its deferred references are checked at its commit, which must be its own
        // (the checks before the writes rule out a failure there unless storage changed
        // underneath).
        let dir = dir.clone();
        B::write_alone(self, move |c| Box::pin(async move { directory::import(c, &dir).await })).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_unit(&self, id: &str) -> Result<Unit> {
        directory::get_unit(&mut *self.read().await?, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_units(
        &self,
        parent_id: Option<&str>,
        level: Option<UnitLevel>,
        page: &PageRequest,
    ) -> Result<Page<Unit>> {
        let after: Option<String> = page_cursor(page)?;
        directory::list_units(&mut *self.read().await?, parent_id, level, after.as_deref(), page.size()).await
    }

    #[tracing::instrument(skip_all)]
    async fn village_place(&self, village_id: &str) -> Result<Place> {
        directory::village_place(&mut *self.read().await?, village_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_station(&self, township_id: &str) -> Result<Station> {
        directory::get_station(&mut *self.read().await?, township_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_person(&self, id: &str) -> Result<Person> {
        directory::get_person(&mut *self.read().await?, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn target_status(&self, unit_id: &str, person_id: Option<&str>) -> Result<TargetStatus> {
        let row = Sql::new(format!("select {}", target_columns("$1", "$2")))
            .bind(unit_id)
            .bind(person_id)
            .fetch_one(&mut *self.read().await?)
            .await?;
        target_status_from(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn list_people(&self, filter: &PersonFilter, page: &PageRequest) -> Result<Page<Person>> {
        let after: Option<String> = page_cursor(page)?;
        directory::list_people(&mut *self.read().await?, filter, after.as_deref(), page.size()).await
    }

    // ---- users -------------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    async fn create_user(&self, user: &User, request: Option<&RequestKey>) -> Result<Recorded<User>> {
        let u = user.clone();
        let (keys, key) = (self.keys.clone(), request.cloned());
        let written = self
            .write(move |c| {
                Box::pin(async move {
                    Sql::new(
                        "insert into users \
                         (id, username, username_key, display_name, role, unit_id, person_id, \
                         password_hash, active, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(u.id)
                    .bind(&u.username)
                    .bind(username_key(&u.username))
                    .bind(&u.display_name)
                    .bind(u.role.as_str())
                    .bind(&u.unit_id)
                    .bind(u.person_id.clone())
                    .bind(&u.password_hash)
                    .bind(u.active)
                    .bind(u.created_at)
                    .execute(c)
                    .await?;
                    if let Some(key) = &key {
                        register(c, &keys, key, Wrote::User(u.id)).await?;
                    }
                    Ok(())
                })
            })
            .await;
        match written {
            Ok(()) => Ok(Recorded { value: user.clone(), created: true }),
            // The username (in any case), the id, or the request id.
            Err(StoreError::Conflict(_)) => repeated_user(self, user, request).await,
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn get_user(&self, id: Uuid) -> Result<User> {
        let row = Sql::new("select * from users where id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref().map(user_from_row).transpose()?.ok_or_else(|| StoreError::not_found("user", id))
    }

    #[tracing::instrument(skip_all)]
    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = Sql::new(
            "select * from users where username = $1 or username_key = $2 \
             order by username = $1 desc limit 1",
        )
        .bind(username)
        .bind(username_key(username))
        .fetch_optional(&mut *self.read().await?)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list_users(&self, filter: &UserFilter, page: &PageRequest) -> Result<Page<User>> {
        let after: Option<(String, String)> = page_cursor(page)?;
        let size = page.size();
        let folded = <B::Conn as Dialect>::ascii_folded("username");
        let spelt = <B::Conn as Dialect>::bytewise("username");
        let mut q = Sql::new("select * from users where 1 = 1");
        if let Some(role) = filter.role {
            q.push(" and role = ").push_bind(role.as_str());
        }
        if let Some(active) = filter.active {
            q.push(" and active = ").push_bind(active);
        }
        if let Some((key, name)) = after {
            q.push(format!(" and ({folded} > ")).push_bind(key.clone());
            q.push(format!(" or ({folded} = ")).push_bind(key);
            q.push(format!(" and {spelt} > ")).push_bind(name).push("))");
        }
        q.push(format!(" order by {folded}, {spelt} limit ")).push_bind(i64::from(size));
        let items = q
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => {
                Some(encode_cursor(&(last.username.to_ascii_lowercase(), &last.username)))
            }
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn set_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>> {
        let hash = password_hash.to_owned();
        self.write(move |c| {
            Box::pin(async move {
                let n = Sql::new("update users set password_hash = $1 where id = $2")
                    .bind(hash)
                    .bind(user_id)
                    .execute(c)
                    .await?;
                if n == 0 {
                    return Err(StoreError::not_found("user", user_id));
                }
                let rows = Sql::new(
                    "update sessions set revoked_at = $1 where user_id = $2 and revoked_at is null \
                     returning id, expires_at",
                )
                .bind(at)
                .bind(user_id)
                .fetch_all(c)
                .await?;
                rows.iter().map(|row| Ok((R(row).get("id")?, R(row).get("expires_at")?))).collect()
            })
        })
        .await
    }

    // ---- calls -------------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(call_id = %call.id))]
    async fn record_call(&self, call: &Call, request: Option<&RequestKey>) -> Result<Recorded<Call>> {
        B::record_call(self, call, request).await
    }

    #[tracing::instrument(skip_all, fields(call_id = %call.id))]
    async fn record_call_in_village(
        &self,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>> {
        B::record_call_in_village(self, call, request).await
    }

    #[tracing::instrument(skip_all, fields(call_id = %id))]
    async fn get_call(&self, id: Uuid) -> Result<Call> {
        let row = Sql::new("select * from calls where id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref()
            .map(|r| call_from_row(r, &self.keys))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("call", id))
    }

    #[tracing::instrument(skip_all, fields(call_id = %call_id))]
    async fn call_and_target(
        &self,
        call_id: Uuid,
        target: Option<(&str, Option<&str>)>,
    ) -> Result<(Call, Option<TargetStatus>)> {
        call_and_target(self, call_id, target).await
    }

    #[tracing::instrument(skip_all)]
    async fn caller_history(&self, phone: &Phone, limit: u32) -> Result<(Vec<Call>, Vec<WorkOrder>)> {
        let limit = i64::from(limit.min(MAX_PAGE_SIZE));
        // The number's hash under every configured key: rows not yet re-sealed after a
        // rotation carry an older key's hash.
        let hashes = self.keys.phone_hashes(phone);
        let mut conn = self.read().await?;
        let mut q = Sql::new("select * from calls where caller_phone_hash");
        q.push_any(hashes.clone()).push(" order by call_time desc, id desc limit ").push_bind(limit);
        let calls = q.fetch_all(&mut *conn).await?;
        let mut q = Sql::new("select * from work_orders where caller_phone_hash");
        q.push_any(hashes).push(" order by created_at desc, id desc limit ").push_bind(limit);
        let orders = q.fetch_all(&mut *conn).await?;
        Ok((
            calls.iter().map(|r| call_from_row(r, &self.keys)).collect::<Result<_>>()?,
            orders.iter().map(|r| order_from_row(r, &self.keys)).collect::<Result<_>>()?,
        ))
    }

    // ---- work orders -------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(order_id = %order.id))]
    async fn create_order(
        &self,
        order: &WorkOrder,
        events: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<Recorded<(WorkOrder, Vec<Event>)>> {
        if events.is_empty() || order.version != events.len() as i64 {
            return Err(StoreError::other(format!(
                "create_order: version {} does not match {} events",
                order.version,
                events.len()
            )));
        }
        // A repeat is recognised by the registry's key, so a first attempt pays for no
        // lookup.
        match B::write_order(self, order, events, request).await {
            Ok(value) => Ok(Recorded { value, created: true }),
            Err(StoreError::Conflict(_)) => repeated_order(self, order, request).await,
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(order_id = %id))]
    async fn get_order(&self, id: Uuid) -> Result<WorkOrder> {
        let row = Sql::new("select * from work_orders where id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref()
            .map(|r| order_from_row(r, &self.keys))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("work order", id))
    }

    #[tracing::instrument(skip_all)]
    async fn get_order_by_number(&self, number: &str) -> Result<WorkOrder> {
        let row = Sql::new("select * from work_orders where number = $1")
            .bind(number)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref()
            .map(|r| order_from_row(r, &self.keys))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("work order", number))
    }

    #[tracing::instrument(skip_all, fields(order_id = %next.id, expected_version = expected_version))]
    async fn save_transition(
        &self,
        expected_version: i64,
        next: &WorkOrder,
        event: &EventDraft,
        step_id: Option<&str>,
        request: Option<&RequestKey>,
    ) -> Result<Event> {
        if next.version != expected_version + 1 {
            return Err(StoreError::other(format!(
                "save_transition: next version {} is not {expected_version} + 1",
                next.version
            )));
        }
        B::save_transition(self, expected_version, next, event, step_id, request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_orders(&self, filter: &OrderFilter, page: &PageRequest) -> Result<Page<WorkOrder>> {
        let cursor: Option<OrderCursor> = page_cursor(page)?;
        let size = page.size();
        let mut q = Sql::new("select * from work_orders where true");
        if !filter.states.is_empty() {
            q.push(" and state").push_any(filter.states.iter().map(|s| s.as_str().to_owned()).collect());
        }
        let mut eq = |column: &str, value: Option<&str>| {
            if let Some(v) = value {
                q.push(" and ").push(column).push(" = ").push_bind(v);
            }
        };
        eq("category", filter.category.map(|c| c.as_str()));
        eq("county_id", filter.county_id.as_deref());
        eq("township_id", filter.township_id.as_deref());
        eq("village_id", filter.village_id.as_deref());
        eq("handling_unit_id", filter.handling_unit_id.as_deref());
        eq("assignee_id", filter.assignee_id.as_deref());
        if let Some(at) = filter.overdue_at {
            let closed = State::ALL.iter().filter(|s| !s.is_open()).map(|s| s.as_str().to_owned()).collect();
            q.push(" and state").push_none_of(closed);
            q.push(" and current_due < ").push_bind(at);
        }
        if let Some(from) = filter.created_from {
            q.push(" and created_at >= ").push_bind(from);
        }
        if let Some(to) = filter.created_to {
            q.push(" and created_at < ").push_bind(to);
        }
        if let Some(c) = cursor {
            q.push(" and (created_at, id) < (").push_bind(c.created_at).push(", ").push_bind(c.id).push(")");
        }
        q.push(" order by created_at desc, id desc limit ").push_bind(i64::from(size));
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        let items: Vec<WorkOrder> =
            rows.iter().map(|r| order_from_row(r, &self.keys)).collect::<Result<_>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => {
                Some(encode_cursor(&OrderCursor { created_at: last.created_at, id: last.id }))
            }
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    async fn order_events(&self, order_id: Uuid) -> Result<Vec<Event>> {
        let rows = Sql::new("select * from work_order_events where order_id = $1 order by seq")
            .bind(order_id)
            .fetch_all(&mut *self.read().await?)
            .await?;
        if rows.is_empty() {
            // Every order has its creation event: none means no such order.
            return Err(StoreError::not_found("work order", order_id));
        }
        rows.iter().map(event_from_row).collect()
    }

    #[tracing::instrument(skip_all, fields(orders = order_ids.len()))]
    async fn order_marks(&self, order_ids: &[Uuid]) -> Result<Vec<Event>> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = EventKind::ALL.iter().filter(|k| k.is_system_mark()).map(|k| k.as_str().to_owned());
        let mut q = Sql::new("select * from work_order_events where order_id");
        q.push_any_uuid(order_ids).push(" and kind").push_any(marks.collect());
        q.push(" order by order_id, seq");
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(event_from_row).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn repeat_of(&self, key: &RequestKey) -> Result<Option<Wrote>> {
        let row = Sql::new(
            "select fingerprint, call_id, order_id, event_id, created_user_id, ledger_kind, ledger_id, payment_id \
             from request_ids \
             where user_id = $1 and request_id = $2",
        )
        .bind(key.user_id)
        .bind(&key.id)
        .fetch_optional(&mut *self.read().await?)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let r = R(&row);
        let wrote = Wrote::from_columns(WroteColumns {
            call_id: r.opt("call_id")?,
            order_id: r.opt("order_id")?,
            event_id: r.opt("event_id")?,
            created_user_id: r.opt("created_user_id")?,
            ledger_kind: r.opt("ledger_kind")?,
            ledger_id: r.opt("ledger_id")?,
            payment_id: r.opt("payment_id")?,
        })?;
        repeat(&self.keys, key, &r.get::<Vec<u8>>("fingerprint")?, wrote).map(Some)
    }

    #[tracing::instrument(skip_all)]
    async fn check_writable(&self, now: DateTime<Utc>) -> Result<()> {
        let q = Sql::new(
            "insert into write_probe (id, at) values (1, $1) on conflict (id) do update set at = excluded.at",
        )
        .bind(now);
        B::execute(self, q).await?;
        Ok(())
    }

    async fn schema_versions(&self) -> Result<SchemaVersions> {
        let row = Sql::new("select coalesce(max(version), 0) as v from _sqlx_migrations where success")
            .fetch_one(&mut *self.read().await?)
            .await?;
        Ok(SchemaVersions {
            release: B::migrator().migrations.last().map_or(0, |m| m.version),
            database: R(&row).get("v")?,
        })
    }
}
