//! The counsel programme: the fund's years, accounts, entries and payments, the
//! programme policy, and disqualifications (see `hotline_store::programme`).
//!
//! Money is added and compared in Rust with exact decimals, never in SQL: SQLite keeps
//! it as decimal text and would do floating-point arithmetic on it. Each balance is
//! read under the account's row lock ([`Dialect::FOR_UPDATE`]; SQLite's one writer holds
//! the write lock already), decided on, and written back with a conditional update on
//! the balance read, in the transaction that writes the payment or the allocation and
//! the entry. One statement text serves both databases.

use crate::orders::{insert_event, register};
use crate::records::order_from_row;
use crate::routing::{policy_from_row, save_policy, stored_policy};
use crate::{Backend, Dialect, R, ReadRow, Sql, SqlStore, page_cursor, push_order_assignments};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::fund::{Credit, FundLevel};
use hotline_store::{
    Account, Decision, Disqualification, DisqualificationFilter, DisqualificationState,
    DisqualificationStore, Entry, EntryKind, Event, EventSnapshot, FundStore, FundUnits, FundYear,
    MovedVillage, Outcome, Page, PageRequest, Payment, PaymentFilter, Reassign, ReassignedOrder, Recorded,
    RequestKey, Result, Store, StoreError, StoredPolicy, Wrote, encode_cursor,
};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

fn cents(mut d: Decimal) -> Decimal {
    d.rescale(2);
    d
}

fn corrupt_name(col: &str, value: &str) -> StoreError {
    crate::corrupt(col, format_args!("unknown value `{value}`"))
}

fn year_from_row(row: &impl ReadRow) -> Result<FundYear> {
    let r = R(row);
    Ok(FundYear {
        year: r.get("year")?,
        amount: r.get("amount")?,
        growth_rate: r.opt::<Decimal>("growth_rate")?.map(|d| d.normalize()),
        levels: [r.get("city_share")?, r.get("county_share")?, r.get("township_share")?],
        allocated_by: r.get("allocated_by")?,
        allocated_at: r.get("allocated_at")?,
    })
}

fn account_from_row(row: &impl ReadRow) -> Result<Account> {
    let r = R(row);
    let level: String = r.get("level")?;
    Ok(Account {
        unit_id: r.get("unit_id")?,
        level: FundLevel::parse(&level).ok_or_else(|| corrupt_name("level", &level))?,
        balance: r.get("balance")?,
        credited: r.get("credited")?,
        paid: r.get("paid")?,
        opened_at: r.get("opened_at")?,
    })
}

fn payment_from_row(row: &impl ReadRow) -> Result<Payment> {
    let r = R(row);
    let quantity: i32 = r.get("quantity")?;
    Ok(Payment {
        id: r.get("id")?,
        account_unit_id: r.get("account_unit_id")?,
        person_id: r.get("person_id")?,
        service_kind: r.get("service_kind")?,
        service_ref: r.get("service_ref")?,
        quantity: u32::try_from(quantity).map_err(|e| crate::corrupt("quantity", e))?,
        rate: r.get("rate")?,
        amount: r.get("amount")?,
        note: r.opt("note")?,
        paid_by: r.get("paid_by")?,
        paid_at: r.get("paid_at")?,
    })
}

fn entry_from_row(row: &impl ReadRow) -> Result<Entry> {
    let r = R(row);
    let kind: String = r.get("kind")?;
    Ok(Entry {
        id: r.get("id")?,
        account_unit_id: r.get("account_unit_id")?,
        at: r.get("at")?,
        kind: EntryKind::parse(&kind).ok_or_else(|| corrupt_name("kind", &kind))?,
        amount: r.get("amount")?,
        balance: r.get("balance")?,
        year: r.opt("year")?,
        payment_id: r.opt("payment_id")?,
    })
}

fn disqualification_from_row(row: &impl ReadRow) -> Result<Disqualification> {
    let r = R(row);
    let state: String = r.get("state")?;
    Ok(Disqualification {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        county_id: r.get("county_id")?,
        state: DisqualificationState::parse(&state).ok_or_else(|| corrupt_name("state", &state))?,
        reason: r.get("reason")?,
        successor_id: r.opt("successor_id")?,
        proposed_by: r.get("proposed_by")?,
        proposed_at: r.get("proposed_at")?,
        decided_by: r.opt("decided_by")?,
        decided_at: r.opt("decided_at")?,
        decision_note: r.opt("decision_note")?,
        outcome: r.opt_json("outcome")?,
    })
}

/// Locks the account of `unit_id` and reads its balance, credited and paid totals.
async fn lock_account<C: Dialect>(
    conn: &mut C,
    unit_id: &str,
) -> Result<Option<(Decimal, Decimal, Decimal)>> {
    let row = Sql::new(format!(
        "select balance, credited, paid from fund_accounts where unit_id = $1{}",
        C::FOR_UPDATE
    ))
    .bind(unit_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let r = R(&row);
        Ok((r.get("balance")?, r.get("credited")?, r.get("paid")?))
    })
    .transpose()
}

/// Writes an account's new totals, on condition that its balance is still `before`
/// (the lock makes it so; a change under it is a failure, not a silent overwrite).
async fn set_account<C: Dialect>(
    conn: &mut C,
    unit_id: &str,
    before: Decimal,
    (balance, credited, paid): (Decimal, Decimal, Decimal),
) -> Result<()> {
    let n = Sql::new(
        "update fund_accounts set balance = $1, credited = $2, paid = $3 where unit_id = $4 and balance = $5",
    )
    .bind(cents(balance))
    .bind(cents(credited))
    .bind(cents(paid))
    .bind(unit_id)
    .bind(cents(before))
    .execute(conn)
    .await?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::other(format!("the balance of account {unit_id} changed under its lock")))
    }
}

async fn insert_entry<C: Dialect>(conn: &mut C, e: &Entry) -> Result<i64> {
    let row = Sql::new(
        "insert into fund_entries (account_unit_id, at, kind, amount, balance, year, payment_id) \
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(e.account_unit_id.as_str())
    .bind(e.at)
    .bind(e.kind.as_str())
    .bind(cents(e.amount))
    .bind(cents(e.balance))
    .bind(e.year)
    .bind(e.payment_id)
    .fetch_one(conn)
    .await?;
    R(&row).get("id")
}

/// The statements of a payment, in the caller's transaction.
async fn pay_in<C: Dialect>(conn: &mut C, p: &Payment) -> Result<Entry> {
    let unit = p.account_unit_id.as_str();
    let Some((balance, credited, paid)) = lock_account(conn, unit).await? else {
        return Err(StoreError::Precondition(format!(
            "the unit `{unit}` has no account of the fund yet (an allocation opens it)"
        )));
    };
    if p.amount > balance {
        return Err(StoreError::Precondition(format!(
            "the account of `{unit}` holds {balance:.2} yuan, less than the payment of {:.2}",
            p.amount
        )));
    }
    let mut q = Sql::new("");
    q.push_insert(
        "fund_payments",
        vec![
            ("id", p.id.into()),
            ("account_unit_id", unit.into()),
            ("person_id", p.person_id.as_str().into()),
            ("service_kind", p.service_kind.as_str().into()),
            ("service_ref", p.service_ref.as_str().into()),
            ("quantity", (p.quantity as i32).into()),
            ("rate", cents(p.rate).into()),
            ("amount", cents(p.amount).into()),
            ("note", p.note.as_deref().into()),
            ("paid_by", p.paid_by.into()),
            ("paid_at", p.paid_at.into()),
        ],
    );
    q.execute(conn).await?;
    let after = balance - p.amount;
    set_account(conn, unit, balance, (after, credited, paid + p.amount)).await?;
    let mut entry = Entry {
        id: 0,
        account_unit_id: unit.to_owned(),
        at: p.paid_at,
        kind: EntryKind::Payment,
        amount: cents(-p.amount),
        balance: cents(after),
        year: None,
        payment_id: Some(p.id),
    };
    entry.id = insert_entry(conn, &entry).await?;
    Ok(entry)
}

/// The statements of an allocation, in the caller's transaction.
async fn allocate_in<C: Dialect>(conn: &mut C, y: &FundYear, credits: &[Credit]) -> Result<()> {
    let mut q = Sql::new("");
    q.push_insert(
        "fund_years",
        vec![
            ("year", y.year.into()),
            ("amount", cents(y.amount).into()),
            ("growth_rate", y.growth_rate.into()),
            ("city_share", cents(y.levels[0]).into()),
            ("county_share", cents(y.levels[1]).into()),
            ("township_share", cents(y.levels[2]).into()),
            ("allocated_by", y.allocated_by.into()),
            ("allocated_at", y.allocated_at.into()),
        ],
    );
    if let Err(e) = q.execute(conn).await {
        return Err(match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("the fund of {} was allocated already", y.year))
            }
            e => e,
        });
    }
    // Locked in one order, so that two allocations never wait on each other in a cycle.
    let mut sorted: Vec<&Credit> = credits.iter().collect();
    sorted.sort_by(|a, b| a.unit_id.cmp(&b.unit_id));
    for c in sorted {
        Sql::new(
            "insert into fund_accounts (unit_id, level, balance, credited, paid, opened_at) \
             values ($1, $2, $3, $3, $3, $4) on conflict (unit_id) do nothing",
        )
        .bind(c.unit_id.as_str())
        .bind(c.level.as_str())
        .bind(cents(Decimal::ZERO))
        .bind(y.allocated_at)
        .execute(conn)
        .await?;
        let (balance, credited, paid) = lock_account(conn, &c.unit_id)
            .await?
            .ok_or_else(|| StoreError::other(format!("account {} vanished", c.unit_id)))?;
        let after = balance + c.amount;
        set_account(conn, &c.unit_id, balance, (after, credited + c.amount, paid)).await?;
        insert_entry(
            conn,
            &Entry {
                id: 0,
                account_unit_id: c.unit_id.clone(),
                at: y.allocated_at,
                kind: EntryKind::Allocation,
                amount: cents(c.amount),
                balance: cents(after),
                year: Some(y.year),
                payment_id: None,
            },
        )
        .await?;
    }
    Ok(())
}

async fn payment_in<C: Dialect>(conn: &mut C, id: Uuid) -> Result<(Payment, Entry)> {
    let row = Sql::new("select * from fund_payments where id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("payment", id))?;
    let payment = payment_from_row(&row)?;
    let row = Sql::new("select * from fund_entries where payment_id = $1").bind(id).fetch_one(conn).await?;
    Ok((payment, entry_from_row(&row)?))
}

#[async_trait]
impl<B: Backend> FundStore for SqlStore<B> {
    #[tracing::instrument(skip_all)]
    async fn fund_units(&self) -> Result<FundUnits> {
        let mut conn = self.read().await?;
        let rows = Sql::new(
            "select id, level, parent_id, name from units where level in ('city', 'county', 'township') order by id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let counts: HashMap<String, u32> = Sql::new(
            "select parent_id, count(*) as villages from units \
             where level = 'village' and parent_id is not null group by parent_id",
        )
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let r = R(row);
            Ok((r.get("parent_id")?, u32::try_from(r.count("villages")?).unwrap_or(u32::MAX)))
        })
        .collect::<Result<_>>()?;
        let mut units = FundUnits::default();
        let mut county_villages: BTreeMap<String, u32> = BTreeMap::new();
        for row in &rows {
            let r = R(row);
            let id: String = r.get("id")?;
            units.names.insert(id.clone(), r.get("name")?);
            match r.get::<String>("level")?.as_str() {
                "city" => {
                    units.city_id.get_or_insert(id);
                }
                "county" => {
                    county_villages.entry(id).or_default();
                }
                _ => {
                    let villages = counts.get(&id).copied().unwrap_or(0);
                    if let Some(county) = r.opt::<String>("parent_id")? {
                        units.county_of.insert(id.clone(), county);
                    }
                    units.townships.push((id, villages));
                }
            }
        }
        for (township, villages) in &units.townships {
            if let Some(n) = units.county_of.get(township).and_then(|c| county_villages.get_mut(c)) {
                *n = n.saturating_add(*villages);
            }
        }
        units.counties = county_villages.into_iter().collect();
        Ok(units)
    }

    #[tracing::instrument(skip_all, fields(year = year.year))]
    async fn allocate_fund(&self, year: &FundYear, credits: &[Credit]) -> Result<()> {
        let (year, credits) = (year.clone(), credits.to_vec());
        self.write(move |c| Box::pin(async move { allocate_in(c, &year, &credits).await })).await
    }

    #[tracing::instrument(skip_all)]
    async fn fund_year(&self, year: i32) -> Result<FundYear> {
        let row = Sql::new("select * from fund_years where year = $1")
            .bind(year)
            .fetch_optional(&mut *self.read().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("fund year", year))?;
        year_from_row(&row)
    }

    #[tracing::instrument(skip_all)]
    async fn allocation_entries(&self, year: i32) -> Result<Vec<Entry>> {
        Sql::new("select * from fund_entries where year = $1 order by account_unit_id")
            .bind(year)
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn accounts(&self, unit_ids: Option<&[String]>) -> Result<Vec<Account>> {
        let mut q = Sql::new("select * from fund_accounts");
        if let Some(ids) = unit_ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            q.push(" where unit_id").push_any(ids.to_vec());
        }
        q.push(" order by unit_id");
        q.fetch_all(&mut *self.read().await?).await?.iter().map(account_from_row).collect()
    }

    #[tracing::instrument(skip_all, fields(payment_id = %payment.id))]
    async fn pay(
        &self,
        payment: &Payment,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<(Payment, Entry)>> {
        let (p, keys, key) = (payment.clone(), self.keys.clone(), request.cloned());
        let written = self
            .write(move |c| {
                Box::pin(async move {
                    let entry = pay_in(c, &p).await?;
                    if let Some(key) = &key {
                        register(c, &keys, key, Wrote::Payment(p.id)).await?;
                    }
                    Ok((p, entry))
                })
            })
            .await;
        match written {
            Ok(value) => Ok(Recorded { value, created: true }),
            Err(StoreError::Conflict(conflict)) => {
                if let Some(key) = request {
                    match self.repeat_of(key).await? {
                        Some(Wrote::Payment(id)) => {
                            return Ok(Recorded { value: self.payment(id).await?, created: false });
                        }
                        Some(other) => {
                            return Err(StoreError::other(format!(
                                "request id of a payment names {other:?}"
                            )));
                        }
                        None => {}
                    }
                }
                let paid =
                    Sql::new("select id from fund_payments where service_kind = $1 and service_ref = $2")
                        .bind(payment.service_kind.as_str())
                        .bind(payment.service_ref.as_str())
                        .fetch_optional(&mut *self.read().await?)
                        .await?;
                Err(StoreError::Conflict(match paid {
                    Some(row) => format!(
                        "service_ref: the {} `{}` was paid already (payment {})",
                        payment.service_kind,
                        payment.service_ref,
                        R(&row).get::<Uuid>("id")?
                    ),
                    None => conflict,
                }))
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn payment(&self, id: Uuid) -> Result<(Payment, Entry)> {
        payment_in(&mut *self.read().await?, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn statement(&self, unit_id: &str, page: &PageRequest) -> Result<Page<Entry>> {
        let after: Option<i64> = page_cursor(page)?;
        let size = page.size();
        let mut q = Sql::new("select * from fund_entries where account_unit_id = $1").bind(unit_id);
        if let Some(after) = after {
            q.push(" and id > ").push_bind(after);
        }
        q.push(" order by id limit ").push_bind(i64::from(size));
        let items: Vec<Entry> =
            q.fetch_all(&mut *self.read().await?).await?.iter().map(entry_from_row).collect::<Result<_>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => Some(encode_cursor(&last.id)),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all)]
    async fn list_payments(&self, filter: &PaymentFilter, page: &PageRequest) -> Result<Page<Payment>> {
        let after: Option<(DateTime<Utc>, Uuid)> = page_cursor(page)?;
        let size = page.size();
        let mut q = Sql::new("select * from fund_payments where 1 = 1");
        if let Some(accounts) = &filter.accounts {
            if accounts.is_empty() {
                return Ok(Page { items: Vec::new(), next_cursor: None });
            }
            q.push(" and account_unit_id").push_any(accounts.clone());
        }
        if let Some(p) = &filter.person_id {
            q.push(" and person_id = ").push_bind(p.as_str());
        }
        if let Some(from) = filter.from {
            q.push(" and paid_at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" and paid_at < ").push_bind(to);
        }
        if let Some((at, id)) = after {
            q.push(" and (paid_at < ").push_bind(at);
            q.push(" or (paid_at = ").push_bind(at).push(" and id < ").push_bind(id).push("))");
        }
        q.push(" order by paid_at desc, id desc limit ").push_bind(i64::from(size));
        let items: Vec<Payment> = q
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(payment_from_row)
            .collect::<Result<_>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => Some(encode_cursor(&(last.paid_at, last.id))),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all)]
    async fn stored_programme_policy(&self) -> Result<Option<StoredPolicy>> {
        let row = stored_policy("programme_policy").fetch_optional(&mut *self.read().await?).await?;
        row.as_ref().map(policy_from_row).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn save_programme_policy(&self, policy: &StoredPolicy) -> Result<()> {
        B::execute(self, save_policy("programme_policy", policy)).await?;
        Ok(())
    }
}

/// Why a decision found the proposal not awaiting one: missing, or decided already.
async fn not_proposed<C: Dialect>(conn: &mut C, id: Uuid) -> StoreError {
    match Sql::new("select state from disqualifications where id = $1").bind(id).fetch_optional(conn).await {
        Ok(Some(row)) => match R(&row).get::<String>("state") {
            Ok(state) => StoreError::Precondition(format!("the disqualification was {state} already")),
            Err(e) => e,
        },
        Ok(None) => StoreError::not_found("disqualification", id),
        Err(e) => e,
    }
}

/// Marks a proposal decided, on condition that it awaits a decision; its person.
async fn decide<C: Dialect>(conn: &mut C, d: &Decision, state: DisqualificationState) -> Result<String> {
    let row = Sql::new(
        "update disqualifications set state = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
         where id = $5 and state = 'proposed' returning person_id",
    )
    .bind(state.as_str())
    .bind(d.by)
    .bind(d.at)
    .bind(d.note.as_deref())
    .bind(d.id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => R(&row).get("person_id"),
        None => Err(not_proposed(conn, d.id).await),
    }
}

async fn disqualification_in<C: Dialect>(conn: &mut C, id: Uuid) -> Result<Disqualification> {
    let row = Sql::new("select * from disqualifications where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::not_found("disqualification", id))?;
    disqualification_from_row(&row)
}

/// The statements of a confirmation, in the caller's transaction.
async fn confirm_in<C: Dialect>(
    conn: &mut C,
    keys: &hotline_store::CallerKeys,
    d: &Decision,
    villages: &[(String, String)],
    reassign: &Reassign,
) -> Result<(Disqualification, Vec<Event>)> {
    let person = decide(conn, d, DisqualificationState::Confirmed).await?;
    let plan: HashMap<&str, &str> = villages.iter().map(|(v, p)| (v.as_str(), p.as_str())).collect();
    let held: Vec<String> =
        Sql::new("select village_id from counsel_villages where person_id = $1 order by position")
            .bind(person.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| R(row).get("village_id"))
            .collect::<Result<_>>()?;
    let mut outcome = Outcome::default();
    for village in &held {
        let Some(&successor) = plan.get(village.as_str()) else {
            return Err(StoreError::Precondition(format!(
                "the counsel's villages changed since the decision was prepared (`{village}`); decide again"
            )));
        };
        outcome.villages.push(MovedVillage { village_id: village.clone(), counsel_id: successor.to_owned() });
    }
    Sql::new("delete from counsel_villages where person_id = $1")
        .bind(person.as_str())
        .execute(&mut *conn)
        .await?;
    for moved in &outcome.villages {
        Sql::new(
            "insert into counsel_villages (person_id, village_id, position) \
             select $1, $2, coalesce(max(position) + 1, 0) from counsel_villages where person_id = $1 \
             on conflict (person_id, village_id) do nothing",
        )
        .bind(moved.counsel_id.as_str())
        .bind(moved.village_id.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Sql::new("update people set active = $1, disqualified_at = $2 where id = $3")
        .bind(false)
        .bind(d.at)
        .bind(person.as_str())
        .execute(&mut *conn)
        .await?;
    let users: Vec<Uuid> =
        Sql::new("select id from users where person_id = $1 and role = 'counsel' and active")
            .bind(person.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| R(row).get("id"))
            .collect::<Result<_>>()?;
    for user in &users {
        crate::privacy::set_active(conn, *user, false, d.at).await?;
    }
    outcome.users_deactivated = users;
    Sql::new("update directory_version set version = version + 1 where id = 1").execute(&mut *conn).await?;

    let rows = Sql::new(format!(
        "select * from work_orders where assignee_id = $1 \
         and state not in ('registered', 'closed', 'cancelled', 'archived') order by created_at, id{}",
        C::FOR_UPDATE
    ))
    .bind(person.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let order = order_from_row(row, keys)?;
        let t = reassign(&order)?;
        let mut q = Sql::new("update work_orders set ");
        push_order_assignments(&mut q, &t.order, keys)?;
        q.push(" where id = ").push_bind(order.id);
        q.push(" and version = ").push_bind(order.version);
        if q.execute(&mut *conn).await? == 0 {
            return Err(crate::not_updated(conn, order.id, order.version).await);
        }
        let snapshot = EventSnapshot::of(&t.order, Some(person.clone()));
        let event = insert_event(conn, order.id, t.order.version, &t.event, None, &snapshot).await?;
        outcome.orders.push(ReassignedOrder {
            order_id: order.id,
            event_id: event.id,
            assignee_id: t.order.target.as_ref().and_then(|t| t.assignee_id.clone()),
        });
        events.push(event);
    }
    Sql::new("update disqualifications set outcome = $1 where id = $2")
        .bind(C::json(Some(&outcome))?)
        .bind(d.id)
        .execute(&mut *conn)
        .await?;
    Ok((disqualification_in(conn, d.id).await?, events))
}

#[async_trait]
impl<B: Backend> DisqualificationStore for SqlStore<B> {
    #[tracing::instrument(skip_all, fields(disqualification_id = %d.id))]
    async fn propose_disqualification(&self, d: &Disqualification) -> Result<()> {
        let mut q = Sql::new("");
        q.push_insert(
            "disqualifications",
            vec![
                ("id", d.id.into()),
                ("person_id", d.person_id.as_str().into()),
                ("county_id", d.county_id.as_str().into()),
                ("state", d.state.as_str().into()),
                ("reason", d.reason.as_str().into()),
                ("successor_id", d.successor_id.as_deref().into()),
                ("proposed_by", d.proposed_by.into()),
                ("proposed_at", d.proposed_at.into()),
            ],
        );
        match B::execute(self, q).await {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(StoreError::Conflict(format!(
                "person_id: a disqualification of `{}` awaits the city's decision already",
                d.person_id
            ))),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn disqualification(&self, id: Uuid) -> Result<Disqualification> {
        disqualification_in(&mut *self.read().await?, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_disqualifications(
        &self,
        filter: &DisqualificationFilter,
        page: &PageRequest,
    ) -> Result<Page<Disqualification>> {
        let after: Option<(DateTime<Utc>, Uuid)> = page_cursor(page)?;
        let size = page.size();
        let mut q = Sql::new("select * from disqualifications where 1 = 1");
        if let Some(c) = &filter.county_id {
            q.push(" and county_id = ").push_bind(c.as_str());
        }
        if let Some(s) = filter.state {
            q.push(" and state = ").push_bind(s.as_str());
        }
        if let Some((at, id)) = after {
            q.push(" and (proposed_at < ").push_bind(at);
            q.push(" or (proposed_at = ").push_bind(at).push(" and id < ").push_bind(id).push("))");
        }
        q.push(" order by proposed_at desc, id desc limit ").push_bind(i64::from(size));
        let items: Vec<Disqualification> = q
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(disqualification_from_row)
            .collect::<Result<_>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => Some(encode_cursor(&(last.proposed_at, last.id))),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(disqualification_id = %decision.id))]
    async fn reject_disqualification(&self, decision: &Decision) -> Result<Disqualification> {
        let d = decision.clone();
        self.write(move |c| {
            Box::pin(async move {
                decide(c, &d, DisqualificationState::Rejected).await?;
                disqualification_in(c, d.id).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(disqualification_id = %decision.id))]
    async fn confirm_disqualification(
        &self,
        decision: &Decision,
        villages: &[(String, String)],
        reassign: Reassign,
    ) -> Result<(Disqualification, Vec<Event>)> {
        let (d, villages, keys) = (decision.clone(), villages.to_vec(), self.keys.clone());
        let done = self
            .write(move |c| Box::pin(async move { confirm_in(c, &keys, &d, &villages, &reassign).await }))
            .await?;
        if !done.1.is_empty() {
            self.notify_events_written();
        }
        Ok(done)
    }

    #[tracing::instrument(skip_all)]
    async fn disqualified(&self) -> Result<HashMap<String, DateTime<Utc>>> {
        Sql::new("select id, disqualified_at from people where disqualified_at is not null")
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(|row| Ok((R(row).get("id")?, R(row).get("disqualified_at")?)))
            .collect()
    }
}
