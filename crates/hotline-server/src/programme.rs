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
/// (docs/architecture.md, "Assessment"). [`LedgerCompliance`] is the one in
/// [`crate::App::compliance`]; [`Neutral`] answers 1.0 for everyone.
#[async_trait]
pub trait Compliance: Send + Sync {
    /// What the API reports as `compliance_source`.
    fn source(&self) -> &'static str;
    /// The compliance of each of `ids` in `year`, at the App's clock, on its calendar in
    /// force; an id left out counts as 1.0.
    async fn compliance(
        &self,
        app: &crate::App,
        year: i32,
        subject: Subject,
        ids: &[String],
    ) -> ApiResult<HashMap<String, f64>>;
}

/// Compliance that counts nobody's duties: 1.0, neutral, for everyone.
#[derive(Debug, Default)]
pub struct Neutral;

#[async_trait]
impl Compliance for Neutral {
    fn source(&self) -> &'static str {
        "neutral"
    }

    async fn compliance(
        &self,
        _app: &crate::App,
        _year: i32,
        _subject: Subject,
        _ids: &[String],
    ) -> ApiResult<HashMap<String, f64>> {
        Ok(HashMap::new())
    }
}

/// The shortfalls of a board as (kind, person, unit), to ask of each duty whether it was
/// missed in constant time (a city's board lists thousands).
type Missed<'a> =
    std::collections::HashSet<(hotline_domain::ledger::ShortfallKind, Option<&'a str>, &'a str)>;

fn missed_of<'a>(board: &hotline_domain::ledger::Board<'a>) -> Missed<'a> {
    board.shortfalls.iter().map(|f| (f.kind, f.person_id, f.unit_id)).collect()
}

/// Compliance from the duty ledger: over the months of the year that have ended, each
/// month's compliance board (`hotline_domain::ledger::compliance`, as `GetComplianceBoard`
/// computes it) gives each duty holder's duties and shortfalls. A counsel owes, per
/// township they serve and month, their days on site and (once due) their monthly
/// report; a team its days on site. The year's legal-education events are owed once, per
/// village (by its counsel) and per team, as due by the last month ended. Compliance is
/// the share of those owed that were met; someone who owed nothing yet counts 1.0.
#[derive(Debug, Default)]
pub struct LedgerCompliance;

#[async_trait]
impl Compliance for LedgerCompliance {
    fn source(&self) -> &'static str {
        "ledger"
    }

    async fn compliance(
        &self,
        app: &crate::App,
        year: i32,
        subject: Subject,
        ids: &[String],
    ) -> ApiResult<HashMap<String, f64>> {
        use hotline_domain::ledger::{self as l, Month, ShortfallKind as K};
        let now = app.now();
        let in_force = app.time_limits.current();
        let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        // (owed, missed) per id.
        let mut tally: HashMap<String, (u32, u32)> = HashMap::new();
        let mut owe = |id: &str, missed: bool| {
            if wanted.contains(id) {
                let t = tally.entry(id.to_owned()).or_default();
                t.0 += 1;
                t.1 += u32::from(missed);
            }
        };
        let Some(mut month) = chrono::NaiveDate::from_ymd_opt(year, 1, 1).map(Month::of) else {
            return Ok(HashMap::new());
        };
        let ended = |m: Month| m.year() == year && now >= l::start_of(m.next().first_day());
        let built = app.routing.current(app.store.as_ref()).await?;
        while ended(month) {
            let activity = app.store.compliance_activity(&Default::default(), month).await?;
            let board = l::compliance(
                month,
                now,
                &in_force.calendar,
                &app.ledger,
                &built.duty,
                l::Area::default(),
                &activity,
            );
            let shortfalls = missed_of(&board);
            let missed = |kind, person, unit| shortfalls.contains(&(kind, person, unit));
            let report_due = now >= board.report_due;
            for row in &board.counsel {
                let (who, at) = (row.post.person_id.as_str(), row.post.township_id.as_str());
                match subject {
                    Subject::Counsel => {
                        owe(who, missed(K::CounselOnSiteDays, Some(who), at));
                        if report_due {
                            owe(
                                who,
                                missed(K::ReportMissing, Some(who), at)
                                    || missed(K::ReportLate, Some(who), at),
                            );
                        }
                    }
                    Subject::Team => {}
                }
            }
            if subject == Subject::Team {
                for row in &board.teams {
                    let at = row.post.township_id.as_str();
                    owe(at, missed(K::TeamOnSiteDays, None, at));
                }
            }
            // The board of the last month ended: the education events due by then.
            if !ended(month.next()) && board.education_due > 0 {
                match subject {
                    Subject::Counsel => {
                        for v in &board.villages {
                            if let Some(who) = v.post.counsel_id.as_deref() {
                                owe(who, missed(K::VillageEducation, Some(who), &v.post.village_id));
                            }
                        }
                    }
                    Subject::Team => {
                        for row in &board.teams {
                            let at = row.post.township_id.as_str();
                            owe(at, missed(K::TeamEducation, None, at));
                        }
                    }
                }
            }
            month = month.next();
        }
        Ok(tally
            .into_iter()
            .filter(|(_, (owed, _))| *owed > 0)
            .map(|(id, (owed, missed))| (id, f64::from(owed - missed) / f64::from(owed)))
            .collect())
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
