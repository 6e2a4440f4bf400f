//! Storage for category suggestion (see `hotline_store::SuggestionStore`).

use crate::rows::{R, db};
use async_trait::async_trait;
use hotline_domain::Category;
use hotline_store::{
    ACCEPTANCE_SQL, CategoryAcceptance, LabelCursor, Labelled, Result, SuggestionFilter, SuggestionStore,
};
use sqlx::QueryBuilder;
use sqlx::Row;

#[async_trait]
impl SuggestionStore for crate::SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn labelled_calls(&self, after: Option<LabelCursor>, limit: u32) -> Result<Vec<Labelled>> {
        let mut qb = QueryBuilder::new("select id, created_at, summary, category, subcategory from calls");
        if let Some(c) = after {
            qb.push(" where (created_at, id) > (")
                .push_bind(crate::rows::micros(c.created_at))
                .push(", ")
                .push_bind(c.id.to_string())
                .push(")");
        }
        qb.push(" order by created_at, id limit ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter()
            .map(|row| {
                let r = R(row);
                Ok(Labelled {
                    cursor: LabelCursor { created_at: r.time("created_at")?, id: r.uuid("id")? },
                    summary: r.get("summary")?,
                    category: r.named("category")?,
                    subcategory: r.named("subcategory")?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn suggestion_acceptance(&self, filter: &SuggestionFilter) -> Result<Vec<CategoryAcceptance>> {
        let (head, tail) = ACCEPTANCE_SQL.split_once("{where}").expect("placeholder");
        let mut qb = QueryBuilder::new(head);
        if let Some(county) = &filter.county_id {
            qb.push(" and county_id = ").push_bind(county.clone());
        }
        if let Some(t) = filter.created_from {
            qb.push(" and created_at >= ").push_bind(crate::rows::micros(t));
        }
        if let Some(t) = filter.created_to {
            qb.push(" and created_at < ").push_bind(crate::rows::micros(t));
        }
        qb.push(tail);
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter()
            .map(|row| {
                let count = |col: &str| -> Result<u64> {
                    let n: i64 = row.try_get(col).map_err(db)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                };
                Ok(CategoryAcceptance {
                    category: R(row).named::<Category>("category")?,
                    calls: count("calls")?,
                    suggested_first: count("suggested_first")?,
                    in_top_two: count("in_top_two")?,
                    subcategory_first: count("subcategory_first")?,
                })
            })
            .collect()
    }
}
