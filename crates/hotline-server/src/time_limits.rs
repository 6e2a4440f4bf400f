//! The time limits in force: the time-limit policy, and the holiday calendar deadlines
//! are counted on.
//!
//! The base is what the configuration names over the built-in ones (`[policy] sla_file`
//! over the built-in policy; `calendar_files` over the shipped calendar), read at start.
//! What administrators stored through the API (`TimeLimitService`) takes precedence: a
//! stored policy replaces the configured one, and each stored year replaces whatever the
//! base says of that year.
//!
//! Policy and calendar are held together behind one `Arc` that is swapped whole, and a
//! request reads it once ([`TimeLimits::current`]), so a decision counts with one policy
//! and one calendar throughout. A change made through this instance is in force for its
//! next request; every instance polls the store's version every [`POLL`] and reloads
//! when it moved, so a change made through another instance is in force here within
//! about that long, without a restart.

use crate::app::App;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use hotline_domain::{Calendar, Ctx, SlaPolicy};
use hotline_store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// How often every instance asks whether the stored time limits changed.
pub const POLL: Duration = Duration::from_secs(2);

/// Who stored something, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

/// The policy and the calendar in force, and where they came from.
#[derive(Debug)]
pub struct InForce {
    /// The store's version they were loaded at (-1: the base alone, nothing read yet).
    pub version: i64,
    pub policy: SlaPolicy,
    pub calendar: Calendar,
    /// Set when an administrator stored the policy in force.
    pub policy_stored: Option<Stored>,
    /// The years an administrator stored, each over the base's.
    pub stored_years: BTreeMap<i32, Stored>,
}

impl InForce {
    /// The lifecycle's view of the world at `now`.
    pub fn ctx(&self, now: DateTime<Utc>) -> Ctx<'_> {
        Ctx { now, calendar: &self.calendar, policy: &self.policy }
    }
}

/// The time limits of one instance: the base, and what is in force now.
#[derive(Debug)]
pub struct TimeLimits {
    base_policy: SlaPolicy,
    base_calendar: Calendar,
    current: RwLock<Arc<InForce>>,
    reloading: tokio::sync::Mutex<()>,
}

impl TimeLimits {
    /// The base alone in force, until [`TimeLimits::reload`] reads the store.
    pub fn new(base_policy: SlaPolicy, base_calendar: Calendar) -> TimeLimits {
        let current = InForce {
            version: -1,
            policy: base_policy.clone(),
            calendar: base_calendar.clone(),
            policy_stored: None,
            stored_years: BTreeMap::new(),
        };
        TimeLimits {
            base_policy,
            base_calendar,
            current: RwLock::new(Arc::new(current)),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// What is in force now; read once per request.
    pub fn current(&self) -> Arc<InForce> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads what is stored and puts it in force over the base.
    pub async fn reload(&self, store: &dyn Store) -> ApiResult<Arc<InForce>> {
        let _one_at_a_time = self.reloading.lock().await;
        let stored = store.stored_time_limits().await?;
        let mut calendar = self.base_calendar.clone();
        let mut stored_years = BTreeMap::new();
        for year in &stored.years {
            calendar.replace_year(year.year, &year.days);
            stored_years.insert(year.year, Stored { by: year.updated_by, at: year.updated_at });
        }
        let (policy, policy_stored) = match &stored.policy {
            Some(p) => match SlaPolicy::from_toml(&p.document) {
                Ok(policy) => (policy, Some(Stored { by: p.updated_by, at: p.updated_at })),
                Err(e) => {
                    tracing::error!(error = %e, "the stored time-limit policy does not parse; keeping the configured one");
                    (self.base_policy.clone(), None)
                }
            },
            None => (self.base_policy.clone(), None),
        };
        let loaded =
            Arc::new(InForce { version: stored.version, policy, calendar, policy_stored, stored_years });
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        // Loads run one at a time and read the version first, so a later load is never
        // older; the check keeps that true whatever the order of the writes.
        if loaded.version >= current.version {
            *current = loaded;
        }
        Ok(current.clone())
    }

    /// Reloads when the store's version moved past the one in force.
    pub async fn refresh(&self, store: &dyn Store) -> ApiResult<()> {
        if store.time_limits_version().await? != self.current().version {
            self.reload(store).await?;
            tracing::info!(version = self.current().version, "time limits reloaded");
        }
        Ok(())
    }
}

/// Every [`POLL`], takes in changes made through other instances.
pub async fn follow(app: App) {
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = app.time_limits.refresh(app.store.as_ref()).await {
            tracing::warn!(error = %tonic::Status::from(e).message(), "reading the stored time limits failed; keeping those in force");
        }
    }
}
