//! Caller data views, re-sealing, sessions and lock-out on SQLite.

use crate::SqliteStore;
use crate::rows::{R, corrupt, db, micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_store::{
    CallerDataView, CallerField, FailureCount, LockoutPolicy, Page, PageRequest, PrivacyStore, ResealSummary,
    Result, Revocations, Session, StoreError, StoredCaller, ViewFilter, decode_cursor, encode_cursor,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

/// Rows re-sealed per transaction.
const RESEAL_BATCH: i64 = 200;

fn view_from_row(row: &SqliteRow) -> Result<CallerDataView> {
    let r = R(row);
    let fields: String = r.get("fields")?;
    Ok(CallerDataView {
        id: r.get("id")?,
        at: r.time("at")?,
        user_id: r.uuid("user_id")?,
        role: r.named("role")?,
        order_id: r.opt_uuid("order_id")?,
        call_id: r.opt_uuid("call_id")?,
        fields: CallerField::split(&fields)
            .map_err(|f| corrupt("fields", format_args!("unknown field `{f}`")))?,
        rpc: r.get("rpc")?,
        telephony_call_id: r.get("telephony_call_id")?,
    })
}

impl SqliteStore {
    /// Re-seals one batch of `table`'s rows; returns how many.
    async fn reseal_batch(&self, table: &str, only_clear: bool) -> Result<u64> {
        let keys = self.caller_keys();
        let current = keys.current_id().to_owned();
        let queue = table == "queue_calls";
        let select = if queue {
            format!("select id, caller_phone, caller_key_id from {table}")
        } else {
            format!(
                "select id, caller_name, caller_phone, caller_id_number, caller_anonymous, \
                 caller_confidential, caller_key_id from {table}"
            )
        };
        let filter =
            if only_clear { "caller_key_id is null" } else { "caller_key_id is null or caller_key_id <> ?" };
        let (keys, table) = (keys.clone(), table.to_owned());
        self.write(move |tx| {
            Box::pin(async move {
                let keys = &keys;
                let sql = format!("{select} where {filter} limit {RESEAL_BATCH}");
                let mut q = sqlx::query(&sql);
                if !only_clear {
                    q = q.bind(&current);
                }
                let rows = q.fetch_all(&mut *tx).await.map_err(db)?;
                for row in &rows {
                    let r = R(row);
                    let id: String = r.get("id")?;
                    let key_id: Option<String> = r.get("caller_key_id")?;
                    if queue {
                        let phone =
                            keys.open_value("caller_phone", r.get("caller_phone")?, key_id.as_deref())?;
                        sqlx::query(&format!(
                            "update {table} set caller_phone = ?, caller_key_id = ? where id = ?"
                        ))
                        .bind(phone.map(|p| keys.seal("caller_phone", &p)).unwrap_or_default())
                        .bind(&current)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                        continue;
                    }
                    let caller = keys.open_caller(StoredCaller {
                        name: r.get("caller_name")?,
                        phone: r.get("caller_phone")?,
                        id_number: r.get("caller_id_number")?,
                        anonymous: r.get("caller_anonymous")?,
                        confidential: r.get("caller_confidential")?,
                        key_id,
                    })?;
                    let sealed = keys.seal_caller(&caller);
                    sqlx::query(&format!(
                        "update {table} set caller_name = ?, caller_phone = ?, caller_id_number = ?, \
                 caller_phone_hash = ?, caller_key_id = ? where id = ?"
                    ))
                    .bind(sealed.name)
                    .bind(sealed.phone)
                    .bind(sealed.id_number)
                    .bind(sealed.phone_hash)
                    .bind(sealed.key_id)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                }
                Ok(rows.len() as u64)
            })
        })
        .await
    }

    async fn reseal_table(&self, table: &str, only_clear: bool) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self.reseal_batch(table, only_clear).await?;
            total += n;
            if n < RESEAL_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn reseal_callers(&self, only_clear: bool) -> Result<ResealSummary> {
        Ok(ResealSummary {
            calls: self.reseal_table("calls", only_clear).await?,
            orders: self.reseal_table("work_orders", only_clear).await?,
            queue_calls: self.reseal_table("queue_calls", only_clear).await?,
        })
    }

    #[tracing::instrument(skip_all, fields(views = views.len()))]
    async fn record_caller_views(&self, views: &[CallerDataView]) -> Result<()> {
        if views.is_empty() {
            return Ok(());
        }
        let views = views.to_vec();
        self.write(move |tx| {
            Box::pin(async move {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "insert into caller_data_views \
             (at, user_id, role, order_id, call_id, fields, rpc, telephony_call_id) ",
                );
                qb.push_values(&views, |mut b, v| {
                    b.push_bind(micros(v.at))
                        .push_bind(v.user_id.to_string())
                        .push_bind(v.role.as_str())
                        .push_bind(v.order_id.map(|u| u.to_string()))
                        .push_bind(v.call_id.map(|u| u.to_string()))
                        .push_bind(CallerField::join(&v.fields))
                        .push_bind(v.rpc.clone())
                        .push_bind(v.telephony_call_id.clone());
                });
                qb.build().execute(&mut *tx).await.map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_caller_views(
        &self,
        filter: &ViewFilter,
        page: &PageRequest,
    ) -> Result<Page<CallerDataView>> {
        let after: Option<i64> = match page.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_cursor(c).ok_or(StoreError::BadCursor)?),
            None => None,
        };
        let size = page.size();
        let mut qb = QueryBuilder::<Sqlite>::new("select * from caller_data_views where 1 = 1");
        if let Some(u) = filter.user_id {
            qb.push(" and user_id = ").push_bind(u.to_string());
        }
        if let Some(o) = filter.order_id {
            qb.push(" and order_id = ").push_bind(o.to_string());
        }
        if let Some(from) = filter.from {
            qb.push(" and at >= ").push_bind(micros(from));
        }
        if let Some(to) = filter.to {
            qb.push(" and at < ").push_bind(micros(to));
        }
        if let Some(id) = after {
            qb.push(" and id < ").push_bind(id);
        }
        qb.push(" order by id desc limit ").push_bind(i64::from(size));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        let items = rows.iter().map(view_from_row).collect::<Result<Vec<_>>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => Some(encode_cursor(&last.id)),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
    async fn create_session(&self, session: &Session) -> Result<()> {
        let session = session.clone();
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query("delete from sessions where expires_at < ?")
                    .bind(micros(session.issued_at - chrono::Duration::days(1)))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                sqlx::query(
            "insert into sessions (id, user_id, issued_at, expires_at, revoked_at) values (?, ?, ?, ?, ?)",
        )
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(micros(session.issued_at))
        .bind(micros(session.expires_at))
        .bind(session.revoked_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_session(&self, id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> Result<bool> {
        let n = self
            .write(move |tx| {
                Box::pin(async move {
                    sqlx::query(
            "update sessions set revoked_at = ? where id = ? and user_id = ? and revoked_at is null",
        )
        .bind(micros(at))
        .bind(id.to_string())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)
                })
            })
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn set_user_active(&self, user_id: Uuid, active: bool, at: DateTime<Utc>) -> Result<u64> {
        self.write(move |tx| {
            Box::pin(async move {
                let n = sqlx::query("update users set active = ? where id = ?")
                    .bind(active)
                    .bind(user_id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::not_found("user", user_id));
                }
                let revoked = if active {
                    0
                } else {
                    sqlx::query("update sessions set revoked_at = ? where user_id = ? and revoked_at is null")
                        .bind(micros(at))
                        .bind(user_id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected()
                };
                Ok(revoked)
            })
        })
        .await
    }

    async fn revocations(&self, now: DateTime<Utc>) -> Result<Revocations> {
        let rows = sqlx::query(
            "select id, expires_at from sessions where revoked_at is not null and expires_at > ?",
        )
        .bind(micros(now))
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        let sessions = rows
            .iter()
            .map(|row| Ok((R(row).uuid("id")?, R(row).time("expires_at")?)))
            .collect::<Result<Vec<_>>>()?;
        let rows =
            sqlx::query("select id from users where active = 0").fetch_all(self.pool()).await.map_err(db)?;
        let inactive_users = rows.iter().map(|row| R(row).uuid("id")).collect::<Result<Vec<_>>>()?;
        Ok(Revocations { sessions, inactive_users })
    }

    async fn sign_in_locked_until(
        &self,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let until: Option<Option<i64>> =
            sqlx::query_scalar("select locked_until from sign_in_failures where username = ?")
                .bind(username)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(until.flatten().filter(|u| *u > micros(now)).and_then(DateTime::from_timestamp_micros))
    }

    async fn record_sign_in_failure(
        &self,
        username: &str,
        now: DateTime<Utc>,
        policy: &LockoutPolicy,
    ) -> Result<FailureCount> {
        let (username, policy) = (username.to_owned(), *policy);
        self.write(move |tx| {
            Box::pin(async move {
                let row = sqlx::query("select * from sign_in_failures where username = ?")
                    .bind(&username)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                let before = row
                    .as_ref()
                    .map(|row| {
                        let r = R(row);
                        Ok::<_, StoreError>(FailureCount {
                            failures: u32::try_from(r.get::<i64>("failures")?)
                                .map_err(|e| corrupt("failures", e))?,
                            first_at: r.time("first_at")?,
                            locked_until: r.opt_time("locked_until")?,
                        })
                    })
                    .transpose()?;
                let next = policy.after_failure(before, now);
                sqlx::query(
                    "insert or replace into sign_in_failures (username, failures, first_at, locked_until) \
             values (?, ?, ?, ?)",
                )
                .bind(&username)
                .bind(i64::from(next.failures))
                .bind(micros(next.first_at))
                .bind(next.locked_until.map(micros))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                Ok(next)
            })
        })
        .await
    }

    async fn clear_sign_in_failures(&self, username: &str) -> Result<()> {
        let username = username.to_owned();
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query("delete from sign_in_failures where username = ?")
                    .bind(&username)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                Ok(())
            })
        })
        .await
    }
}
