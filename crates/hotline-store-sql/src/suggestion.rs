//! Storage for category suggestion (see `hotline_store::SuggestionStore`).

use crate::{Backend, R, Sql, SqlStore};
use async_trait::async_trait;
use hotline_store::{
    ACCEPTANCE_SQL, CategoryAcceptance, LabelCursor, Labelled, Result, SuggestionFilter, SuggestionStore,
};

#[async_trait]
impl<B: Backend> SuggestionStore for SqlStore<B> {
    #[tracing::instrument(skip_all)]
    async fn labelled_calls(&self, after: Option<LabelCursor>, limit: u32) -> Result<Vec<Labelled>> {
        let mut q = Sql::new("select id, created_at, summary, category, subcategory from calls");
        if let Some(c) = after {
            q.push(" where (created_at, id) > (")
                .push_bind(c.created_at)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        q.push(" order by created_at, id limit ").push_bind(i64::from(limit));
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        rows.iter()
            .map(|row| {
                let r = R(row);
                Ok(Labelled {
                    cursor: LabelCursor { created_at: r.get("created_at")?, id: r.get("id")? },
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
        let mut q = Sql::new(head);
        if let Some(county) = &filter.county_id {
            q.push(" and county_id = ").push_bind(county);
        }
        if let Some(t) = filter.created_from {
            q.push(" and created_at >= ").push_bind(t);
        }
        if let Some(t) = filter.created_to {
            q.push(" and created_at < ").push_bind(t);
        }
        q.push(tail);
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        rows.iter()
            .map(|row| {
                let r = R(row);
                let count = |col: &str| -> Result<u64> { Ok(u64::try_from(r.get::<i64>(col)?).unwrap_or(0)) };
                Ok(CategoryAcceptance {
                    category: r.named("category")?,
                    calls: count("calls")?,
                    suggested_first: count("suggested_first")?,
                    in_top_two: count("in_top_two")?,
                    subcategory_first: count("subcategory_first")?,
                })
            })
            .collect()
    }
}
