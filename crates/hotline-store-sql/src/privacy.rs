//! Caller data views, re-sealing, sessions and lock-out.

use crate::{Arg, Backend, Dialect, R, ReadRow, Sql, SqlStore, corrupt, page_cursor};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_store::{
    CallerDataView, CallerField, CallerKeys, FailureCount, LockoutPolicy, Page, PageRequest, PrivacyStore,
    ResealSummary, Result, Revocations, Session, StoreError, StoredCaller, ViewFilter, encode_cursor,
};
use uuid::Uuid;

/// Rows re-sealed per transaction.
const RESEAL_BATCH: u64 = 200;

fn view_from_row(row: &impl ReadRow) -> Result<CallerDataView> {
    let r = R(row);
    let fields: String = r.get("fields")?;
    Ok(CallerDataView {
        id: r.get("id")?,
        at: r.get("at")?,
        user_id: r.get("user_id")?,
        role: r.named("role")?,
        order_id: r.opt("order_id")?,
        call_id: r.opt("call_id")?,
        fields: CallerField::split(&fields)
            .map_err(|f| corrupt("fields", format_args!("unknown field `{f}`")))?,
        rpc: r.get("rpc")?,
        telephony_call_id: r.opt("telephony_call_id")?,
    })
}

/// Re-seals one batch of `table`'s rows under the current key, in the caller's
/// transaction; returns how many.
async fn reseal_batch<C: Dialect>(
    conn: &mut C,
    keys: &CallerKeys,
    table: &str,
    only_clear: bool,
) -> Result<u64> {
    let current = keys.current_id().to_owned();
    let queue = table == "queue_calls";
    let columns = if queue {
        "id, caller_phone, caller_key_id"
    } else {
        "id, caller_name, caller_phone, caller_id_number, caller_anonymous, caller_confidential, caller_key_id"
    };
    let filter =
        if only_clear { "caller_key_id is null" } else { "caller_key_id is null or caller_key_id <> $1" };
    let mut q = Sql::new(format!(
        "select {columns} from {table} where {filter} limit {RESEAL_BATCH}{}",
        C::FOR_UPDATE_SKIP_LOCKED
    ));
    if !only_clear {
        q = q.bind(&current);
    }
    let rows = q.fetch_all(conn).await?;
    for row in &rows {
        let r = R(row);
        let key_id: Option<String> = r.opt("caller_key_id")?;
        if queue {
            let phone = keys.open_value("caller_phone", r.opt("caller_phone")?, key_id.as_deref())?;
            Sql::new(format!("update {table} set caller_phone = $1, caller_key_id = $2 where id = $3"))
                .bind(phone.map(|p| keys.seal("caller_phone", &p)).unwrap_or_default())
                .bind(&current)
                .bind(r.get::<String>("id")?)
                .execute(conn)
                .await?;
            continue;
        }
        let caller = keys.open_caller(StoredCaller {
            name: r.opt("caller_name")?,
            phone: r.opt("caller_phone")?,
            id_number: r.opt("caller_id_number")?,
            anonymous: r.get("caller_anonymous")?,
            confidential: r.get("caller_confidential")?,
            key_id,
        })?;
        let sealed = keys.seal_caller(&caller);
        Sql::new(format!(
            "update {table} set caller_name = $1, caller_phone = $2, caller_id_number = $3, \
             caller_phone_hash = $4, caller_key_id = $5 where id = $6"
        ))
        .bind(sealed.name)
        .bind(sealed.phone)
        .bind(sealed.id_number)
        .bind(sealed.phone_hash)
        .bind(sealed.key_id)
        .bind(r.get::<Uuid>("id")?)
        .execute(conn)
        .await?;
    }
    Ok(rows.len() as u64)
}

/// The tables whose rows hold sealed caller data, each with its `caller_key_id`.
const SEALED_TABLES: [&str; 3] = ["calls", "work_orders", "queue_calls"];

/// The distinct key ids of [`SEALED_TABLES`], in order: a loose index scan of each
/// table's `caller_key_id` index (migration 0017), where each step seeks the next larger
/// id, so the cost grows with the number of keys and not of rows.
fn key_ids_sql() -> String {
    let scans: Vec<String> = SEALED_TABLES
        .iter()
        .map(|t| {
            format!(
                "{t}_keys (id) as (select min(caller_key_id) from {t} union all \
                 select (select min(caller_key_id) from {t} where caller_key_id > k.id) \
                 from {t}_keys k where k.id is not null)"
            )
        })
        .collect();
    let ids: Vec<String> =
        SEALED_TABLES.iter().map(|t| format!("select id from {t}_keys where id is not null")).collect();
    format!("with recursive {} {} order by id", scans.join(", "), ids.join(" union "))
}

impl<B: Backend> SqlStore<B> {
    async fn reseal_table(&self, table: &'static str, only_clear: bool) -> Result<u64> {
        let mut total = 0;
        loop {
            let keys = self.keys.clone();
            let n = self
                .write(move |c| Box::pin(async move { reseal_batch(c, &keys, table, only_clear).await }))
                .await?;
            total += n;
            if n < RESEAL_BATCH {
                return Ok(total);
            }
        }
    }
}

/// Activates or deactivates a user in the caller's transaction; deactivating revokes
/// every session of theirs not yet revoked. Returns the sessions revoked. NotFound for
/// an unknown user.
pub(crate) async fn set_active<C: Dialect>(
    conn: &mut C,
    user_id: Uuid,
    active: bool,
    at: DateTime<Utc>,
) -> Result<u64> {
    let n = Sql::new("update users set active = $1 where id = $2")
        .bind(active)
        .bind(user_id)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(StoreError::not_found("user", user_id));
    }
    if active {
        return Ok(0);
    }
    Sql::new("update sessions set revoked_at = $1 where user_id = $2 and revoked_at is null")
        .bind(at)
        .bind(user_id)
        .execute(conn)
        .await
}

#[async_trait]
impl<B: Backend> PrivacyStore for SqlStore<B> {
    #[tracing::instrument(skip_all)]
    async fn reseal_callers(&self, only_clear: bool) -> Result<ResealSummary> {
        Ok(ResealSummary {
            calls: self.reseal_table("calls", only_clear).await?,
            orders: self.reseal_table("work_orders", only_clear).await?,
            queue_calls: self.reseal_table("queue_calls", only_clear).await?,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn caller_key_ids(&self) -> Result<Vec<String>> {
        let rows = Sql::new(key_ids_sql()).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(|row| R(row).get("id")).collect()
    }

    #[tracing::instrument(skip_all, fields(views = views.len()))]
    async fn record_caller_views(&self, views: &[CallerDataView]) -> Result<()> {
        if views.is_empty() {
            return Ok(());
        }
        let mut q = Sql::new(
            "insert into caller_data_views (at, user_id, role, order_id, call_id, fields, rpc, telephony_call_id) ",
        );
        q.push_rows(views.iter().map(|v| {
            [
                Arg::from(v.at),
                v.user_id.into(),
                v.role.as_str().into(),
                v.order_id.into(),
                v.call_id.into(),
                CallerField::join(&v.fields).into(),
                v.rpc.as_str().into(),
                v.telephony_call_id.as_deref().into(),
            ]
        }));
        B::execute(self, q).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn list_caller_views(
        &self,
        filter: &ViewFilter,
        page: &PageRequest,
    ) -> Result<Page<CallerDataView>> {
        let after: Option<i64> = page_cursor(page)?;
        let size = page.size();
        let mut q = Sql::new("select * from caller_data_views where 1 = 1");
        if let Some(u) = filter.user_id {
            q.push(" and user_id = ").push_bind(u);
        }
        if let Some(o) = filter.order_id {
            q.push(" and order_id = ").push_bind(o);
        }
        if let Some(from) = filter.from {
            q.push(" and at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" and at < ").push_bind(to);
        }
        if let Some(id) = after {
            q.push(" and id < ").push_bind(id);
        }
        q.push(" order by id desc limit ").push_bind(i64::from(size));
        let items = q
            .fetch_all(&mut *self.read().await?)
            .await?
            .iter()
            .map(view_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => Some(encode_cursor(&last.id)),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
    async fn create_session(&self, session: &Session) -> Result<()> {
        let session = session.clone();
        self.write(move |c| {
            Box::pin(async move {
                Sql::new("delete from sessions where expires_at < $1")
                    .bind(session.issued_at - chrono::Duration::days(1))
                    .execute(c)
                    .await?;
                Sql::new(
                    "insert into sessions (id, user_id, issued_at, expires_at, revoked_at) values ($1, $2, $3, $4, $5)",
                )
                .bind(session.id)
                .bind(session.user_id)
                .bind(session.issued_at)
                .bind(session.expires_at)
                .bind(session.revoked_at)
                .execute(c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_session(&self, id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> Result<bool> {
        let q = Sql::new(
            "update sessions set revoked_at = $1 where id = $2 and user_id = $3 and revoked_at is null",
        )
        .bind(at)
        .bind(id)
        .bind(user_id);
        Ok(B::execute(self, q).await? > 0)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn set_user_active(&self, user_id: Uuid, active: bool, at: DateTime<Utc>) -> Result<u64> {
        self.write(move |c| Box::pin(set_active(c, user_id, active, at))).await
    }

    async fn revocations(&self, now: DateTime<Utc>) -> Result<Revocations> {
        let mut conn = self.read().await?;
        let rows =
            Sql::new("select id, expires_at from sessions where revoked_at is not null and expires_at > $1")
                .bind(now)
                .fetch_all(&mut *conn)
                .await?;
        let sessions = rows
            .iter()
            .map(|row| Ok((R(row).get("id")?, R(row).get("expires_at")?)))
            .collect::<Result<Vec<_>>>()?;
        let rows = Sql::new("select id from users where not active").fetch_all(&mut *conn).await?;
        let inactive_users = rows.iter().map(|row| R(row).get("id")).collect::<Result<Vec<_>>>()?;
        Ok(Revocations { sessions, inactive_users })
    }

    async fn sign_in_locked_until(
        &self,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let row = Sql::new("select locked_until from sign_in_failures where username = $1")
            .bind(username)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        let until: Option<DateTime<Utc>> =
            row.as_ref().map(|row| R(row).opt("locked_until")).transpose()?.flatten();
        Ok(until.filter(|u| *u > now))
    }

    async fn record_sign_in_failure(
        &self,
        username: &str,
        now: DateTime<Utc>,
        policy: &LockoutPolicy,
    ) -> Result<FailureCount> {
        let (username, policy) = (username.to_owned(), *policy);
        self.write(move |c| {
            Box::pin(async move {
                let mut q = Sql::new("select * from sign_in_failures where username = $1");
                q.push(<B::Conn as Dialect>::FOR_UPDATE);
                let row = q.bind(&username).fetch_optional(c).await?;
                let before = row
                    .as_ref()
                    .map(|row| {
                        let r = R(row);
                        Ok::<_, StoreError>(FailureCount {
                            failures: u32::try_from(r.get::<i32>("failures")?).map_err(|e| corrupt("failures", e))?,
                            first_at: r.get("first_at")?,
                            locked_until: r.opt("locked_until")?,
                        })
                    })
                    .transpose()?;
                let next = policy.after_failure(before, now);
                Sql::new(
                    "insert into sign_in_failures (username, failures, first_at, locked_until) \
                     values ($1, $2, $3, $4) on conflict (username) do update set failures = excluded.failures, \
                     first_at = excluded.first_at, locked_until = excluded.locked_until",
                )
                .bind(&username)
                .bind(i32::try_from(next.failures).unwrap_or(i32::MAX))
                .bind(next.first_at)
                .bind(next.locked_until)
                .execute(c)
                .await?;
                Ok(next)
            })
        })
        .await
    }

    async fn clear_sign_in_failures(&self, username: &str) -> Result<()> {
        B::execute(self, Sql::new("delete from sign_in_failures where username = $1").bind(username)).await?;
        Ok(())
    }
}
