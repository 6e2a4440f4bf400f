//! Storage for category suggestion: the confirmed classifications the model learns from
//! (every recorded call's final category) and how often agents accepted a suggestion.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::{Category, Subcategory};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Position in the calls, in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A recorded call's words and the category the agent gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub cursor: LabelCursor,
    pub summary: String,
    pub category: Category,
    pub subcategory: Subcategory,
}

/// Which calls to count. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuggestionFilter {
    pub county_id: Option<String>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
}

/// Acceptance of suggestions among calls recorded with one, by final category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryAcceptance {
    pub category: Category,
    pub calls: u64,
    /// Calls whose final category was the one suggested first.
    pub suggested_first: u64,
    pub in_top_two: u64,
    /// Calls whose final subcategory was the one suggested first.
    pub subcategory_first: u64,
}

#[async_trait]
pub trait SuggestionStore {
    /// Calls after `after` in creation order (from the first when `None`), at most
    /// `limit`: the examples a restarted server learns again.
    async fn labelled_calls(&self, after: Option<LabelCursor>, limit: u32) -> Result<Vec<Labelled>>;

    /// Acceptance per final category, over calls recorded with a suggestion; categories
    /// without calls are left out.
    async fn suggestion_acceptance(&self, filter: &SuggestionFilter) -> Result<Vec<CategoryAcceptance>>;
}

/// The acceptance query, the same on both backends but for placeholders; `{where}` is
/// replaced by the filter's conditions.
pub const ACCEPTANCE_SQL: &str = "select category, count(*) as calls, \
     sum(case when suggested_category = category then 1 else 0 end) as suggested_first, \
     sum(case when suggested_category = category or suggested_category_2 = category then 1 else 0 end) as in_top_two, \
     sum(case when suggested_subcategory = subcategory then 1 else 0 end) as subcategory_first \
     from calls where suggested_category is not null{where} group by category order by category";
