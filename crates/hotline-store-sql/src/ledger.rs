//! The duty ledger: [`LedgerStore`], in statements both databases read.
//!
//! Days are bound and stored as `YYYY-MM-DD` text (months `YYYY-MM`); money as the
//! dialect's decimal. A sum of money is taken in whole fen,
//! `sum(cast(round(x * 100) as bigint))`, which is exact on both: PostgreSQL multiplies
//! its numeric; SQLite its decimal text read as a double, whose error for an amount of at
//! most 100,000,000,000.00 yuan is far below the half fen `round` forgives.

use crate::orders::register;
use crate::{Arg, Backend, Dialect, R, ReadRow, Sql, SqlStore, page_cursor};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use hotline_domain::ledger::{
    ComplianceActivity, Function, Month, OrderTally, RecordTally, ReportStatus, VisitDay, VisitReview,
};
use hotline_domain::{Category, State};
use hotline_store::{
    CheckOut, LedgerCursor, LedgerFilter, LedgerStore, LedgerWrite, Meeting, MonthlyReport, NineOneEntry,
    Page, PageRequest, Position, Record, Recorded, RequestKey, Result, Store, StoreError, Visit,
    VisitReviewed, Wrote, encode_cursor,
};
use uuid::Uuid;

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A stored day.
fn read_day(r: &R<'_, impl ReadRow>, col: &str) -> Result<NaiveDate> {
    let text: String = r.get(col)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| crate::corrupt(col, e))
}

fn read_month(r: &R<'_, impl ReadRow>, col: &str) -> Result<Month> {
    let text: String = r.get(col)?;
    Month::parse(col, &text).map_err(|e| crate::corrupt(col, e))
}

// ---- rows ------------------------------------------------------------------------------

fn visit_values(v: &Visit) -> Vec<(&'static str, Arg)> {
    let out = v.check_out.as_ref();
    vec![
        ("id", v.id.into()),
        ("person_id", v.person_id.as_str().into()),
        ("unit_id", v.unit_id.as_str().into()),
        ("duty", v.duty.as_str().into()),
        ("township_id", v.township_id.as_str().into()),
        ("county_id", v.county_id.as_str().into()),
        ("day", day_text(v.day).into()),
        ("check_in_at", v.check_in.at.into()),
        ("check_in_latitude", v.check_in.latitude.into()),
        ("check_in_longitude", v.check_in.longitude.into()),
        ("check_in_distance_km", v.check_in.distance_km.into()),
        ("check_out_at", out.map(|p| p.at).into()),
        ("check_out_latitude", out.map(|p| p.latitude).into()),
        ("check_out_longitude", out.map(|p| p.longitude).into()),
        ("check_out_distance_km", out.and_then(|p| p.distance_km).into()),
        ("flagged", v.flagged.into()),
        ("review", v.review.map(|r| r.as_str()).into()),
        ("review_note", v.review_note.as_deref().into()),
        ("reviewed_by", v.reviewed_by.into()),
        ("reviewed_at", v.reviewed_at.into()),
        ("created_by", v.created_by.into()),
        ("created_at", v.created_at.into()),
    ]
}

fn visit_from_row(row: &impl ReadRow) -> Result<Visit> {
    let r = R(row);
    let check_out = match r.opt::<DateTime<Utc>>("check_out_at")? {
        Some(at) => Some(Position {
            at,
            latitude: r.get("check_out_latitude")?,
            longitude: r.get("check_out_longitude")?,
            distance_km: r.opt("check_out_distance_km")?,
        }),
        None => None,
    };
    Ok(Visit {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        unit_id: r.get("unit_id")?,
        duty: r.named("duty")?,
        township_id: r.get("township_id")?,
        county_id: r.get("county_id")?,
        day: read_day(&r, "day")?,
        check_in: Position {
            at: r.get("check_in_at")?,
            latitude: r.get("check_in_latitude")?,
            longitude: r.get("check_in_longitude")?,
            distance_km: r.opt("check_in_distance_km")?,
        },
        check_out,
        flagged: r.get("flagged")?,
        review: r.opt_named("review")?,
        review_note: r.opt("review_note")?,
        reviewed_by: r.opt("reviewed_by")?,
        reviewed_at: r.opt("reviewed_at")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
    })
}

/// The columns of a record, in the order of [`RECORD_COLUMNS`].
fn record_values<C: Dialect>(rec: &Record) -> Result<Vec<Arg>> {
    Ok(vec![
        rec.id.into(),
        rec.person_id.as_str().into(),
        rec.unit_id.as_str().into(),
        rec.duty.as_str().into(),
        rec.township_id.as_str().into(),
        rec.county_id.as_str().into(),
        day_text(rec.occurred_on).into(),
        rec.detail.function().as_str().into(),
        rec.detail.kind().into(),
        (rec.detail.audience() as i32).into(),
        (rec.detail.copies() as i32).into(),
        rec.detail.loss_recovered().into(),
        C::json(Some(&rec.detail))?,
        rec.work_order_id.into(),
        rec.note.as_deref().into(),
        rec.created_by.into(),
        rec.created_at.into(),
    ])
}

const RECORD_COLUMNS: &str = "id, person_id, unit_id, duty, township_id, county_id, occurred_on, function, kind, \
                              audience, copies, loss_recovered, detail, work_order_id, note, created_by, created_at";

fn record_from_row(row: &impl ReadRow) -> Result<Record> {
    let r = R(row);
    Ok(Record {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        unit_id: r.get("unit_id")?,
        duty: r.named("duty")?,
        township_id: r.get("township_id")?,
        county_id: r.get("county_id")?,
        occurred_on: read_day(&r, "occurred_on")?,
        detail: r.json("detail")?,
        work_order_id: r.opt("work_order_id")?,
        note: r.opt("note")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
    })
}

fn nine_one_from_row(row: &impl ReadRow) -> Result<NineOneEntry> {
    let r = R(row);
    Ok(NineOneEntry {
        id: r.get("id")?,
        village_id: r.get("village_id")?,
        year: r.get("year")?,
        item: r.named("item")?,
        done_on: read_day(&r, "done_on")?,
        note: r.opt("note")?,
        person_id: r.get("person_id")?,
        recorded_by: r.get("recorded_by")?,
        updated_at: r.get("updated_at")?,
    })
}

/// The columns a submission or review writes (all but the report's identity).
fn report_changes<C: Dialect>(rep: &MonthlyReport) -> Result<Vec<(&'static str, Arg)>> {
    Ok(vec![
        ("state", rep.state.as_str().into()),
        ("version", rep.version.into()),
        ("figures", C::json(Some(&rep.figures))?),
        ("note", rep.note.as_deref().into()),
        ("first_submitted_at", rep.first_submitted_at.into()),
        ("submitted_at", rep.submitted_at.into()),
        ("due_at", rep.due_at.into()),
        ("reviewed_by", rep.reviewed_by.into()),
        ("reviewed_at", rep.reviewed_at.into()),
        ("return_reason", rep.return_reason.as_deref().into()),
        ("updated_at", rep.updated_at.into()),
    ])
}

fn report_values<C: Dialect>(rep: &MonthlyReport) -> Result<Vec<(&'static str, Arg)>> {
    let mut values = vec![
        ("id", rep.id.into()),
        ("person_id", rep.person_id.as_str().into()),
        ("township_id", rep.township_id.as_str().into()),
        ("county_id", rep.county_id.as_str().into()),
        ("month", rep.month.to_string().into()),
        ("created_by", rep.created_by.into()),
    ];
    values.extend(report_changes::<C>(rep)?);
    Ok(values)
}

fn report_from_row(row: &impl ReadRow) -> Result<MonthlyReport> {
    let r = R(row);
    Ok(MonthlyReport {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        township_id: r.get("township_id")?,
        county_id: r.get("county_id")?,
        month: read_month(&r, "month")?,
        state: r.named("state")?,
        version: r.get("version")?,
        figures: r.json("figures")?,
        note: r.opt("note")?,
        first_submitted_at: r.get("first_submitted_at")?,
        submitted_at: r.get("submitted_at")?,
        due_at: r.get("due_at")?,
        reviewed_by: r.opt("reviewed_by")?,
        reviewed_at: r.opt("reviewed_at")?,
        return_reason: r.opt("return_reason")?,
        created_by: r.get("created_by")?,
        updated_at: r.get("updated_at")?,
    })
}

fn meeting_values<C: Dialect>(m: &Meeting) -> Result<Vec<(&'static str, Arg)>> {
    Ok(vec![
        ("id", m.id.into()),
        ("township_id", m.township_id.as_str().into()),
        ("county_id", m.county_id.as_str().into()),
        ("held_on", day_text(m.held_on).into()),
        ("attendees", C::json(Some(&m.attendees))?),
        ("note", m.note.as_deref().into()),
        ("recorded_by", m.recorded_by.into()),
        ("created_at", m.created_at.into()),
    ])
}

fn meeting_from_row(row: &impl ReadRow) -> Result<Meeting> {
    let r = R(row);
    Ok(Meeting {
        id: r.get("id")?,
        township_id: r.get("township_id")?,
        county_id: r.get("county_id")?,
        held_on: read_day(&r, "held_on")?,
        attendees: r.json("attendees")?,
        note: r.opt("note")?,
        recorded_by: r.get("recorded_by")?,
        created_at: r.get("created_at")?,
    })
}

// ---- filters and pages ---------------------------------------------------------------------

/// The checked-out visits within `filter` that count or await review, as days.
async fn visit_days_on<C: Dialect>(conn: &mut C, filter: &LedgerFilter) -> Result<Vec<VisitDay>> {
    let mut q = Sql::new(
        "select person_id, unit_id, duty, township_id, day, flagged, review from ledger_visits \
         where check_out_at is not null and (review is null or review <> 'rejected')",
    );
    push_filter(&mut q, filter, Some("day"), true);
    let rows = q.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            let r = R(row);
            let flagged: bool = r.get("flagged")?;
            Ok(VisitDay {
                person_id: r.get("person_id")?,
                unit_id: r.get("unit_id")?,
                duty: r.named("duty")?,
                township_id: r.get("township_id")?,
                day: read_day(&r, "day")?,
                review: if flagged {
                    Some(r.opt_named("review")?.unwrap_or(VisitReview::Pending))
                } else {
                    None
                },
            })
        })
        .collect()
}

/// Appends ` and <column> = $k` for each narrowing field of `f` this list reads, and the
/// day range on `day`.
fn push_filter<C: Dialect>(q: &mut Sql<C>, f: &LedgerFilter, day: Option<&str>, unit: bool) {
    let mut eq = |column: &str, value: Option<String>| {
        if let Some(v) = value {
            q.push(" and ").push(column).push(" = ").push_bind(v);
        }
    };
    eq("person_id", f.person_id.clone());
    eq("county_id", f.county_id.clone());
    eq("township_id", f.township_id.clone());
    if unit {
        eq("unit_id", f.unit_id.clone());
        eq("duty", f.duty.map(|d| d.as_str().to_owned()));
    }
    if let Some(day) = day {
        if let Some(from) = f.from {
            q.push(format!(" and {day} >= ")).push_bind(day_text(from));
        }
        if let Some(to) = f.to {
            q.push(format!(" and {day} <= ")).push_bind(day_text(to));
        }
    }
}

/// The row of `table` with `id`, read by `read`; not found (as `what`) when there is none.
async fn by_id<C: Dialect, T>(
    conn: &mut C,
    table: &str,
    what: &'static str,
    id: Uuid,
    read: fn(&C::Row) -> Result<T>,
) -> Result<T> {
    let row = Sql::new(format!("select * from {table} where id = $1")).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(read).transpose()?.ok_or_else(|| StoreError::not_found(what, id))
}

/// One page of `q` (newest `key` first, then id), and its next cursor.
async fn page_of<C: Dialect, T>(
    conn: &mut C,
    mut q: Sql<C>,
    key: &str,
    page: &PageRequest,
    read: fn(&C::Row) -> Result<T>,
    key_of: impl Fn(&T) -> (String, Uuid),
) -> Result<Page<T>> {
    let cursor: Option<LedgerCursor> = page_cursor(page)?;
    let size = page.size();
    if let Some(c) = cursor {
        q.push(format!(" and ({key}, id) < (")).push_bind(c.key).push(", ").push_bind(c.id).push(")");
    }
    q.push(format!(" order by {key} desc, id desc limit ")).push_bind(i64::from(size));
    let items: Vec<T> = q.fetch_all(conn).await?.iter().map(read).collect::<Result<_>>()?;
    let next_cursor = match items.last() {
        Some(last) if items.len() == size as usize => {
            let (key, id) = key_of(last);
            Some(encode_cursor(&LedgerCursor { key, id }))
        }
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// The id a request registered for a ledger write of `kind`, when `request` repeats it
/// (`RequestReused` when its id names another request).
async fn repeated<B: Backend>(
    store: &SqlStore<B>,
    request: Option<&RequestKey>,
    kind: LedgerWrite,
) -> Result<Option<Uuid>> {
    let Some(key) = request else { return Ok(None) };
    match store.repeat_of(key).await? {
        Some(Wrote::Ledger { kind: k, id }) if k == kind => Ok(Some(id)),
        Some(other) => Err(StoreError::other(format!("the request id of a ledger write names {other:?}"))),
        None => Ok(None),
    }
}

/// Registers an update's request; the id taken already is `RequestReused` (a repeat
/// finds the thing changed already, before it gets here).
async fn register_update<C: Dialect>(
    c: &mut C,
    keys: &hotline_store::CallerKeys,
    key: Option<&RequestKey>,
    kind: LedgerWrite,
    id: Uuid,
) -> Result<()> {
    let Some(key) = key else { return Ok(()) };
    match register(c, keys, key, Wrote::Ledger { kind, id }).await {
        Err(StoreError::Conflict(_)) => Err(StoreError::RequestReused { request_id: key.id.clone() }),
        other => other,
    }
}

/// Inserts `values` into `table` unless a unique rule stops it (`Conflict(rule)`), and
/// registers the request with it.
async fn insert_new<C: Dialect>(
    c: &mut C,
    table: &str,
    values: Vec<(&'static str, Arg)>,
    rule: String,
    keys: &hotline_store::CallerKeys,
    key: Option<&RequestKey>,
    wrote: Wrote,
) -> Result<()> {
    let mut q = Sql::new("");
    q.push_insert(table, values).push(" on conflict do nothing");
    if q.execute(c).await? == 0 {
        return Err(StoreError::Conflict(rule));
    }
    if let Some(key) = key {
        register(c, keys, key, wrote).await?;
    }
    Ok(())
}

#[async_trait]
impl<B: Backend> LedgerStore for SqlStore<B> {
    #[tracing::instrument(skip_all, fields(visit_id = %visit.id))]
    async fn check_in(&self, visit: &Visit, request: Option<&RequestKey>) -> Result<Recorded<Visit>> {
        let values = visit_values(visit);
        let rule = format!("already checked in at {} on {}", visit.unit_id, visit.day);
        let (keys, key, id) = (self.keys.clone(), request.cloned(), visit.id);
        let written = self
            .write(move |c| {
                Box::pin(async move {
                    let wrote = Wrote::Ledger { kind: LedgerWrite::Visit, id };
                    insert_new(c, "ledger_visits", values, rule, &keys, key.as_ref(), wrote).await
                })
            })
            .await;
        match written {
            Ok(()) => Ok(Recorded { value: visit.clone(), created: true }),
            Err(StoreError::Conflict(rule)) => match repeated(self, request, LedgerWrite::Visit).await? {
                Some(id) => Ok(Recorded { value: self.get_visit(id).await?, created: false }),
                None => Err(StoreError::Conflict(rule)),
            },
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(visit_id = %id))]
    async fn check_out(
        &self,
        id: Uuid,
        out: &CheckOut,
        request: Option<&RequestKey>,
    ) -> Result<Option<Visit>> {
        let (out, keys, key) = (*out, self.keys.clone(), request.cloned());
        let changed = self
            .write(move |c| {
                Box::pin(async move {
                    let p = out.position;
                    let n = Sql::new(
                        "update ledger_visits set check_out_at = $1, check_out_latitude = $2, \
                         check_out_longitude = $3, check_out_distance_km = $4, flagged = $5, \
                         review = case when $5 then coalesce(review, 'pending') else review end \
                         where id = $6 and check_out_at is null",
                    )
                    .bind(p.at)
                    .bind(p.latitude)
                    .bind(p.longitude)
                    .bind(p.distance_km)
                    .bind(out.flagged)
                    .bind(id)
                    .execute(c)
                    .await?;
                    if n == 0 {
                        return Ok(false);
                    }
                    register_update(c, &keys, key.as_ref(), LedgerWrite::Visit, id).await?;
                    Ok(true)
                })
            })
            .await?;
        if changed { self.get_visit(id).await.map(Some) } else { Ok(None) }
    }

    #[tracing::instrument(skip_all, fields(visit_id = %id))]
    async fn review_visit(
        &self,
        id: Uuid,
        review: &VisitReviewed,
        request: Option<&RequestKey>,
    ) -> Result<Option<Visit>> {
        let (review, keys, key) = (review.clone(), self.keys.clone(), request.cloned());
        let changed = self
            .write(move |c| {
                Box::pin(async move {
                    let n = Sql::new(
                        "update ledger_visits set review = $1, review_note = $2, reviewed_by = $3, \
                         reviewed_at = $4 where id = $5 and review = 'pending'",
                    )
                    .bind(review.review.as_str())
                    .bind(review.note.clone())
                    .bind(review.by)
                    .bind(review.at)
                    .bind(id)
                    .execute(c)
                    .await?;
                    if n == 0 {
                        return Ok(false);
                    }
                    register_update(c, &keys, key.as_ref(), LedgerWrite::Visit, id).await?;
                    Ok(true)
                })
            })
            .await?;
        if changed { self.get_visit(id).await.map(Some) } else { Ok(None) }
    }

    #[tracing::instrument(skip_all, fields(visit_id = %id))]
    async fn get_visit(&self, id: Uuid) -> Result<Visit> {
        by_id(&mut *self.read().await?, "ledger_visits", "visit", id, visit_from_row).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_visits(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<Visit>> {
        let mut q = Sql::new("select * from ledger_visits where true");
        push_filter(&mut q, filter, Some("day"), true);
        if let Some(review) = filter.review {
            q.push(" and review = ").push_bind(review.as_str());
        }
        let key_of = |v: &Visit| (day_text(v.day), v.id);
        page_of(&mut *self.read().await?, q, "day", page, visit_from_row, key_of).await
    }

    #[tracing::instrument(skip_all)]
    async fn visit_days(&self, filter: &LedgerFilter) -> Result<Vec<VisitDay>> {
        visit_days_on(&mut *self.read().await?, filter).await
    }

    #[tracing::instrument(skip_all, fields(record_id = %record.id))]
    async fn create_record(&self, record: &Record, request: Option<&RequestKey>) -> Result<Recorded<Record>> {
        let values = RECORD_COLUMNS.split(", ").zip(record_values::<B::Conn>(record)?).collect();
        let rule = match record.work_order_id {
            Some(order) => {
                format!("work order {order} has a {} record already", record.detail.function())
            }
            None => format!("record {} exists", record.id),
        };
        let (keys, key, id) = (self.keys.clone(), request.cloned(), record.id);
        let written = self
            .write(move |c| {
                Box::pin(async move {
                    let wrote = Wrote::Ledger { kind: LedgerWrite::Record, id };
                    insert_new(c, "ledger_records", values, rule, &keys, key.as_ref(), wrote).await
                })
            })
            .await;
        match written {
            Ok(()) => Ok(Recorded { value: record.clone(), created: true }),
            Err(StoreError::Conflict(rule)) => match repeated(self, request, LedgerWrite::Record).await? {
                Some(id) => Ok(Recorded { value: self.get_record(id).await?, created: false }),
                None => Err(StoreError::Conflict(rule)),
            },
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(records = records.len()))]
    async fn insert_records(&self, records: &[Record]) -> Result<u64> {
        let rows: Vec<Vec<Arg>> = records.iter().map(record_values::<B::Conn>).collect::<Result<_>>()?;
        // As many rows a statement as the dialect binds well (on SQLite, 500 rows of 17
        // values spent two thirds of a generated year's write binding them).
        let per_statement =
            (<B::Conn as Dialect>::VALUES_PER_STATEMENT / RECORD_COLUMNS.split(", ").count()).max(1);
        B::write_alone(self, move |c| {
            Box::pin(async move {
                let mut written = 0;
                for chunk in rows.chunks(per_statement) {
                    let mut q = Sql::new(format!("insert into ledger_records ({RECORD_COLUMNS}) "));
                    q.push_rows(chunk.iter().cloned());
                    q.push(" on conflict (id) do nothing");
                    written += q.execute(c).await?;
                }
                Ok(written)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(record_id = %id))]
    async fn get_record(&self, id: Uuid) -> Result<Record> {
        by_id(&mut *self.read().await?, "ledger_records", "record", id, record_from_row).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_records(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<Record>> {
        let mut q = Sql::new("select * from ledger_records where true");
        push_filter(&mut q, filter, Some("occurred_on"), true);
        if let Some(f) = filter.function {
            q.push(" and function = ").push_bind(f.as_str());
        }
        let key_of = |r: &Record| (day_text(r.occurred_on), r.id);
        page_of(&mut *self.read().await?, q, "occurred_on", page, record_from_row, key_of).await
    }

    #[tracing::instrument(skip_all)]
    async fn record_counts(&self, filter: &LedgerFilter) -> Result<Vec<(Function, u64)>> {
        let mut q = Sql::new("select function, count(*) as n from ledger_records where true");
        push_filter(&mut q, filter, Some("occurred_on"), true);
        q.push(" group by function order by function");
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(|row| Ok((R(row).named("function")?, R(row).count("n")?))).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn year_tally(
        &self,
        filter: &LedgerFilter,
        orders_closed: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(Vec<RecordTally>, Vec<OrderTally>)> {
        let mut conn = self.read().await?;
        let mut q = Sql::new(
            "select function, kind, count(*) as n, \
             cast(coalesce(sum(audience), 0) as bigint) as audience, \
             cast(coalesce(sum(copies), 0) as bigint) as copies, \
             cast(coalesce(sum(cast(round(loss_recovered * 100) as bigint)), 0) as bigint) as loss_fen \
             from ledger_records where true",
        );
        push_filter(&mut q, filter, Some("occurred_on"), true);
        q.push(" group by function, kind order by function, kind");
        let records = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                let r = R(row);
                Ok(RecordTally {
                    function: r.named("function")?,
                    kind: r.get("kind")?,
                    count: r.count("n")?,
                    audience: r.count("audience")?,
                    copies: r.count("copies")?,
                    loss_fen: r.get("loss_fen")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Closed orders that no record counts already.
        let mut q = Sql::new(
            "select o.category, coalesce(o.resolved, false) as resolved, count(*) as n from work_orders o \
             where o.closed_at >= $1 and o.closed_at < $2 and o.state",
        )
        .bind(orders_closed.0)
        .bind(orders_closed.1);
        q.push_any([State::Closed, State::Archived].iter().map(|s| s.as_str().to_owned()).collect());
        if let Some(county) = &filter.county_id {
            q.push(" and o.county_id = ").push_bind(county.as_str());
        }
        if let Some(township) = &filter.township_id {
            q.push(" and o.township_id = ").push_bind(township.as_str());
        }
        q.push(
            " and not exists (select 1 from ledger_records r where r.work_order_id = o.id) \
             group by 1, 2 order by 1, 2",
        );
        let orders = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                let r = R(row);
                Ok(OrderTally {
                    category: r.named::<Category>("category")?,
                    resolved: r.get("resolved")?,
                    count: r.count("n")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((records, orders))
    }

    #[tracing::instrument(skip_all)]
    async fn set_nine_one(&self, entry: &NineOneEntry, request: Option<&RequestKey>) -> Result<NineOneEntry> {
        let (e, keys, key) = (entry.clone(), self.keys.clone(), request.cloned());
        let id = self
            .write(move |c| {
                Box::pin(async move {
                    let row = Sql::new(
                        "insert into ledger_nine_ones \
                         (id, village_id, year, item, done_on, note, person_id, recorded_by, updated_at) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         on conflict (village_id, year, item) do update set done_on = excluded.done_on, \
                         note = excluded.note, person_id = excluded.person_id, \
                         recorded_by = excluded.recorded_by, updated_at = excluded.updated_at \
                         returning id",
                    )
                    .bind(e.id)
                    .bind(e.village_id.as_str())
                    .bind(e.year)
                    .bind(e.item.as_str())
                    .bind(day_text(e.done_on))
                    .bind(e.note.clone())
                    .bind(e.person_id.as_str())
                    .bind(e.recorded_by)
                    .bind(e.updated_at)
                    .fetch_one(c)
                    .await?;
                    let id: Uuid = R(&row).get("id")?;
                    if let Some(key) = &key {
                        register(c, &keys, key, Wrote::Ledger { kind: LedgerWrite::NineOne, id }).await?;
                    }
                    Ok(id)
                })
            })
            .await?;
        self.get_nine_one(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn nine_ones(&self, village_id: &str, year: i32) -> Result<Vec<NineOneEntry>> {
        let rows = Sql::new("select * from ledger_nine_ones where village_id = $1 and year = $2")
            .bind(village_id)
            .bind(year)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(nine_one_from_row).collect()
    }

    async fn get_nine_one(&self, id: Uuid) -> Result<NineOneEntry> {
        by_id(&mut *self.read().await?, "ledger_nine_ones", "nine ones entry", id, nine_one_from_row).await
    }

    #[tracing::instrument(skip_all, fields(report_id = %report.id))]
    async fn submit_report(
        &self,
        report: &MonthlyReport,
        expected_version: Option<i64>,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<MonthlyReport>> {
        let (keys, key, id) = (self.keys.clone(), request.cloned(), report.id);
        let Some(expected) = expected_version else {
            let values = report_values::<B::Conn>(report)?;
            let rule = format!(
                "{} has a report of {} to township {} already",
                report.person_id, report.month, report.township_id
            );
            let written = self
                .write(move |c| {
                    Box::pin(async move {
                        let wrote = Wrote::Ledger { kind: LedgerWrite::Report, id };
                        insert_new(c, "ledger_reports", values, rule, &keys, key.as_ref(), wrote).await
                    })
                })
                .await;
            return match written {
                Ok(()) => Ok(Recorded { value: report.clone(), created: true }),
                Err(StoreError::Conflict(rule)) => {
                    match repeated(self, request, LedgerWrite::Report).await? {
                        Some(id) => Ok(Recorded { value: self.get_report(id).await?, created: false }),
                        None => Err(StoreError::Conflict(rule)),
                    }
                }
                Err(e) => Err(e),
            };
        };
        let stored = self.review_report(report, expected, request).await?;
        Ok(Recorded { value: stored, created: true })
    }

    #[tracing::instrument(skip_all, fields(report_id = %next.id))]
    async fn review_report(
        &self,
        next: &MonthlyReport,
        expected_version: i64,
        request: Option<&RequestKey>,
    ) -> Result<MonthlyReport> {
        let changes = report_changes::<B::Conn>(next)?;
        let (keys, key, id) = (self.keys.clone(), request.cloned(), next.id);
        self.write(move |c| {
            Box::pin(async move {
                let mut q = Sql::new("update ledger_reports set ");
                for (i, (column, value)) in changes.into_iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.push(column).push(" = ").push_bind(value);
                }
                q.push(" where id = ").push_bind(id).push(" and version = ").push_bind(expected_version);
                if q.execute(c).await? == 0 {
                    let exists = Sql::new("select 1 as x from ledger_reports where id = $1")
                        .bind(id)
                        .fetch_optional(c)
                        .await?;
                    return Err(match exists {
                        Some(_) => StoreError::Stale { id, expected: expected_version },
                        None => StoreError::not_found("monthly report", id),
                    });
                }
                register_update(c, &keys, key.as_ref(), LedgerWrite::Report, id).await
            })
        })
        .await?;
        self.get_report(next.id).await
    }

    #[tracing::instrument(skip_all, fields(report_id = %id))]
    async fn get_report(&self, id: Uuid) -> Result<MonthlyReport> {
        by_id(&mut *self.read().await?, "ledger_reports", "monthly report", id, report_from_row).await
    }

    async fn find_report(
        &self,
        person_id: &str,
        township_id: &str,
        month: Month,
    ) -> Result<Option<MonthlyReport>> {
        let row =
            Sql::new("select * from ledger_reports where person_id = $1 and township_id = $2 and month = $3")
                .bind(person_id)
                .bind(township_id)
                .bind(month.to_string())
                .fetch_optional(&mut *self.read().await?)
                .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list_reports(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<MonthlyReport>> {
        let mut q = Sql::new("select * from ledger_reports where true");
        push_filter(&mut q, filter, None, false);
        if let Some(m) = filter.month {
            q.push(" and month = ").push_bind(m.to_string());
        }
        if let Some(s) = filter.state {
            q.push(" and state = ").push_bind(s.as_str());
        }
        let key_of = |r: &MonthlyReport| (r.month.to_string(), r.id);
        page_of(&mut *self.read().await?, q, "month", page, report_from_row, key_of).await
    }

    #[tracing::instrument(skip_all, fields(meeting_id = %meeting.id))]
    async fn record_meeting(
        &self,
        meeting: &Meeting,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Meeting>> {
        let values = meeting_values::<B::Conn>(meeting)?;
        let rule = format!("meeting {} exists", meeting.id);
        let (keys, key, id) = (self.keys.clone(), request.cloned(), meeting.id);
        let written = self
            .write(move |c| {
                Box::pin(async move {
                    let wrote = Wrote::Ledger { kind: LedgerWrite::Meeting, id };
                    insert_new(c, "ledger_meetings", values, rule, &keys, key.as_ref(), wrote).await
                })
            })
            .await;
        match written {
            Ok(()) => Ok(Recorded { value: meeting.clone(), created: true }),
            Err(StoreError::Conflict(rule)) => match repeated(self, request, LedgerWrite::Meeting).await? {
                Some(id) => Ok(Recorded { value: self.get_meeting(id).await?, created: false }),
                None => Err(StoreError::Conflict(rule)),
            },
            Err(e) => Err(e),
        }
    }

    async fn get_meeting(&self, id: Uuid) -> Result<Meeting> {
        by_id(&mut *self.read().await?, "ledger_meetings", "meeting", id, meeting_from_row).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_meetings(&self, filter: &LedgerFilter, page: &PageRequest) -> Result<Page<Meeting>> {
        let mut q = Sql::new("select * from ledger_meetings where true");
        push_filter(&mut q, filter, Some("held_on"), false);
        let key_of = |m: &Meeting| (day_text(m.held_on), m.id);
        page_of(&mut *self.read().await?, q, "held_on", page, meeting_from_row, key_of).await
    }

    #[tracing::instrument(skip_all, fields(month = %month))]
    async fn compliance_activity(&self, filter: &LedgerFilter, month: Month) -> Result<ComplianceActivity> {
        let area = LedgerFilter {
            county_id: filter.county_id.clone(),
            township_id: filter.township_id.clone(),
            ..LedgerFilter::default()
        };
        let in_month =
            LedgerFilter { from: Some(month.first_day()), to: Some(month.last_day()), ..area.clone() };
        // Few people are inactive at a time: all of them, whatever the area.
        let inactive = Sql::new("select id from people where active = $1").bind(false);
        // Grouped in the order of `ledger_records_education_idx`, which covers the query.
        // For the city or a county it is named: SQLite left to itself reads a county's
        // records of the year by `ledger_records_county_idx` and then sorts them (15 ms
        // for a county of the generated year, against 1 ms). A township's own index
        // serves a township.
        let hint = match area.township_id {
            None => <B::Conn as Dialect>::indexed_by("ledger_records_education_idx"),
            Some(_) => String::new(),
        };
        // The counts of a city's 6,540 units in one row.
        let mut education = Sql::new(format!(
            "select {} as counts from (select unit_id, count(*) as n from ledger_records{hint} \
             where function = 'education'",
            <B::Conn as Dialect>::json_object_agg("e.unit_id", "e.n")
        ));
        let year_to_date = LedgerFilter {
            from: NaiveDate::from_ymd_opt(month.year(), 1, 1),
            to: Some(month.last_day()),
            ..area.clone()
        };
        push_filter(&mut education, &year_to_date, Some("occurred_on"), false);
        education.push(" group by county_id, township_id, unit_id) e");
        let mut reports = Sql::new(
            "select person_id, township_id, state, first_submitted_at from ledger_reports where month = $1",
        )
        .bind(month.to_string());
        push_filter(&mut reports, &area, None, false);
        let mut meetings = Sql::new("select distinct township_id from ledger_meetings where true");
        push_filter(&mut meetings, &in_month, Some("held_on"), false);
        // Read as figures are: a plan for these very days (a generic plan, guessing the
        // period short, walks the whole year's records by day instead of the index).
        B::read_figures(self, move |c| {
            Box::pin(async move {
                let visits = visit_days_on(&mut *c, &in_month).await?;
                let inactive = inactive
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|row| R(row).get("id"))
                    .collect::<Result<_>>()?;
                let counts: String = R(&education.fetch_one(&mut *c).await?).get("counts")?;
                let counts = serde_json::from_str(&counts).map_err(|e| crate::corrupt("counts", e))?;
                let reports = reports
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|row| {
                        let r = R(row);
                        Ok(ReportStatus {
                            person_id: r.get("person_id")?,
                            township_id: r.get("township_id")?,
                            state: r.named("state")?,
                            first_submitted_at: r.get("first_submitted_at")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let meetings = meetings
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|row| R(row).get("township_id"))
                    .collect::<Result<_>>()?;
                Ok(ComplianceActivity { visits, education: counts, reports, meetings, inactive })
            })
        })
        .await
    }
}
