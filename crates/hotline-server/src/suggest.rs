//! The category model a server suggests from and keeps teaching.
//!
//! At start the shipped model (trained on the project's labelled corpus) learns again
//! every call stored so far, in creation order, so confirmed classifications survive a
//! restart without a separate snapshot to keep in step; the model is a table of counts,
//! so replaying gives exactly the model that learned them live. Each call recorded
//! through this server is learned as soon as it is stored. Calls recorded through
//! another instance are learned by this one at its next start.

use hotline_classify::{Classifier, Suggestion};
use hotline_domain::{Category, Subcategory};
use hotline_store::{Store, StoreError};
use std::sync::{PoisonError, RwLock};

/// Calls read per page while replaying.
const REPLAY_PAGE: u32 = 5_000;

pub struct Suggester {
    model: RwLock<Classifier>,
}

impl Suggester {
    /// The shipped model, taught every call in the store.
    pub async fn load(store: &dyn Store) -> Result<Suggester, StoreError> {
        let started = std::time::Instant::now();
        let mut model = Classifier::shipped();
        let mut cursor = None;
        let mut replayed = 0u64;
        loop {
            let page = store.labelled_calls(cursor, REPLAY_PAGE).await?;
            for call in &page {
                model.learn(&call.summary, call.category, call.subcategory);
            }
            replayed += page.len() as u64;
            match page.last() {
                Some(last) if page.len() == REPLAY_PAGE as usize => cursor = Some(last.cursor),
                _ => break,
            }
        }
        tracing::info!(
            replayed,
            examples = model.examples_learned(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "category model ready"
        );
        Ok(Suggester { model: RwLock::new(model) })
    }

    pub fn suggest(&self, summary: &str) -> Suggestion {
        self.model.read().unwrap_or_else(PoisonError::into_inner).suggest(summary)
    }

    /// The rankings alone, without cue words (see [`Classifier::rank_labels`]).
    pub fn rank_labels(&self, summary: &str) -> Suggestion {
        self.model.read().unwrap_or_else(PoisonError::into_inner).rank_labels(summary)
    }

    /// Teaches the model a confirmed classification.
    pub fn learn(&self, summary: &str, category: Category, subcategory: Subcategory) {
        self.model.write().unwrap_or_else(PoisonError::into_inner).learn(summary, category, subcategory);
    }

    pub fn examples_learned(&self) -> u64 {
        self.model.read().unwrap_or_else(PoisonError::into_inner).examples_learned()
    }
}
