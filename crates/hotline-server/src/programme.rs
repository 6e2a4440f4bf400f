//! The counsel programme as the server holds it: the programme policy in force (a city
//! admin's stored policy, else the configured file, else the built-in one), and where
//! the assessment's ledger compliance comes from.
//!
//! The stored policy is read from the database for every request that needs it (one
//! small read), so a change through any instance is in force on every instance at once;
//! it is parsed again only when the stored document changed.

use crate::error::ApiResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::programme::ProgrammePolicy;
use hotline_store::{Store, StoredPolicy};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// The policy in force and where it came from.
#[derive(Debug, Clone)]
pub struct PolicyInForce {
    pub policy: ProgrammePolicy,
    /// Set when a city admin stored it.
    pub updated_by: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The programme policy of one instance.
#[derive(Debug)]
pub struct Programme {
    configured: Arc<PolicyInForce>,
    /// The stored document last parsed, and what it gave.
    parsed: RwLock<Option<(String, Arc<PolicyInForce>)>>,
}

impl Programme {
    /// The configured (or built-in) policy, under whatever a city admin stores.
    pub fn new(configured: ProgrammePolicy) -> Programme {
        Programme {
            configured: Arc::new(PolicyInForce { policy: configured, updated_by: None, updated_at: None }),
            parsed: RwLock::new(None),
        }
    }

    /// The policy in force now.
    pub async fn current(&self, store: &dyn Store) -> ApiResult<Arc<PolicyInForce>> {
        let Some(stored) = store.stored_programme_policy().await? else {
            return Ok(self.configured.clone());
        };
        if let Some((doc, policy)) = &*self.parsed.read().unwrap_or_else(|e| e.into_inner())
            && *doc == stored.document
            && policy.updated_at == Some(stored.updated_at)
        {
            return Ok(policy.clone());
        }
        match ProgrammePolicy::from_toml(&stored.document) {
            Ok(policy) => Ok(self.remember(policy, &stored)),
            Err(e) => {
                tracing::error!(error = %e, "the stored programme policy does not parse; keeping the configured one");
                Ok(self.configured.clone())
            }
        }
    }

    fn remember(&self, policy: ProgrammePolicy, stored: &StoredPolicy) -> Arc<PolicyInForce> {
        let in_force = Arc::new(PolicyInForce {
            policy,
            updated_by: Some(stored.updated_by),
            updated_at: Some(stored.updated_at),
        });
        *self.parsed.write().unwrap_or_else(|e| e.into_inner()) =
            Some((stored.document.clone(), in_force.clone()));
        in_force
    }

    /// Stores a policy a city admin set; it is in force from the next request on, on
    /// every instance.
    pub async fn set(
        &self,
        store: &dyn Store,
        policy: ProgrammePolicy,
        stored: StoredPolicy,
    ) -> ApiResult<Arc<PolicyInForce>> {
        store.save_programme_policy(&stored).await?;
        Ok(self.remember(policy, &stored))
    }
}

/// Whose compliance is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Counsel, by directory person id.
    Counsel,
    /// Township legal service teams, by township id.
    Team,
}

/// The duty ledger's compliance of counsel and teams for a year: the share of their
/// duties (days on site, legal-education events, monthly reports) the ledger shows met,
/// from 0 to 1. The assessment multiplies the hotline part of the score by it
/// (docs/architecture.md, "Assessment"). The duty ledger implements this trait and the
/// server is given it in [`crate::App::compliance`]; until then [`Neutral`] answers 1.0
/// for everyone, which leaves the hotline part as the score.
#[async_trait]
pub trait Compliance: Send + Sync {
    /// What the API reports as `compliance_source`.
    fn source(&self) -> &'static str;
    /// The compliance of each of `ids` in `year`; an id left out counts as 1.0.
    async fn compliance(
        &self,
        year: i32,
        subject: Subject,
        ids: &[String],
    ) -> ApiResult<HashMap<String, f64>>;
}

/// Compliance before the duty ledger is connected: 1.0, neutral, for everyone.
#[derive(Debug, Default)]
pub struct Neutral;

#[async_trait]
impl Compliance for Neutral {
    fn source(&self) -> &'static str {
        "neutral"
    }

    async fn compliance(
        &self,
        _year: i32,
        _subject: Subject,
        _ids: &[String],
    ) -> ApiResult<HashMap<String, f64>> {
        Ok(HashMap::new())
    }
}

/// The programme policy of `[policy] programme_file`, else the built-in one.
pub fn configured_policy(path: Option<&std::path::Path>) -> anyhow::Result<ProgrammePolicy> {
    use anyhow::Context;
    match path {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            ProgrammePolicy::from_toml(&text).with_context(|| format!("programme policy {}", path.display()))
        }
        None => Ok(ProgrammePolicy::default()),
    }
}
