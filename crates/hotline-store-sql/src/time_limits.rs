//! The time-limit policy and the holiday years administrators stored, and their version.

use crate::routing::{policy_from_row, save_policy, stored_policy};
use crate::{Backend, Dialect, R, ReadRow, Sql, SqlStore};
use async_trait::async_trait;
use hotline_store::{Result, StoredPolicy, StoredTimeLimits, StoredYear, TimeLimitStore};

/// Moves the version on, in the caller's transaction.
async fn bump<C: Dialect>(conn: &mut C) -> Result<()> {
    Sql::new("update time_limits_version set version = version + 1 where id = 1").execute(conn).await?;
    Ok(())
}

async fn version<C: Dialect>(conn: &mut C) -> Result<i64> {
    R(&Sql::new("select version from time_limits_version where id = 1").fetch_one(conn).await?).get("version")
}

fn year_from_row(row: &impl ReadRow) -> Result<StoredYear> {
    let r = R(row);
    Ok(StoredYear {
        year: r.get("year")?,
        days: r.json("days")?,
        updated_by: r.get("updated_by")?,
        updated_at: r.get("updated_at")?,
    })
}

#[async_trait]
impl<B: Backend> TimeLimitStore for SqlStore<B> {
    async fn time_limits_version(&self) -> Result<i64> {
        version(&mut *self.read().await?).await
    }

    #[tracing::instrument(skip_all)]
    async fn stored_time_limits(&self) -> Result<StoredTimeLimits> {
        let mut conn = self.read().await?;
        // The version first: a change committed after it is read again at the next poll.
        let version = version(&mut *conn).await?;
        let policy = stored_policy("time_limit_policy")
            .fetch_optional(&mut *conn)
            .await?
            .as_ref()
            .map(policy_from_row)
            .transpose()?;
        let years = Sql::new("select * from holiday_years order by year")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(year_from_row)
            .collect::<Result<_>>()?;
        Ok(StoredTimeLimits { version, policy, years })
    }

    #[tracing::instrument(skip_all)]
    async fn save_time_limit_policy(&self, policy: &StoredPolicy) -> Result<()> {
        let policy = policy.clone();
        self.write(move |c| {
            Box::pin(async move {
                save_policy("time_limit_policy", &policy).execute(c).await?;
                bump(c).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(year = year.year))]
    async fn save_holiday_year(&self, year: &StoredYear) -> Result<()> {
        let days = <B::Conn as Dialect>::json(Some(&year.days))?;
        let year = year.clone();
        self.write(move |c| {
            Box::pin(async move {
                Sql::new(
                    "insert into holiday_years (year, days, updated_by, updated_at) values ($1, $2, $3, $4) \
                     on conflict (year) do update set days = excluded.days, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(year.year)
                .bind(days)
                .bind(year.updated_by)
                .bind(year.updated_at)
                .execute(c)
                .await?;
                bump(c).await
            })
        })
        .await
    }
}
