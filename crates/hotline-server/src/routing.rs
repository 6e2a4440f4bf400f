//! Routing and the map as the server holds them: the routing index, the map index and
//! the duty ledger's posts built from the directory (rebuilt when the directory version
//! moves), and the policy in force (the administrator's saved policy, else the
//! configured file, else the built-in defaults). A policy saved through this instance is
//! in force for its next decision; every instance reads the saved one every [`POLL`] and
//! puts it in force when it changed, so a policy saved through another instance is in
//! force here within about that long, without a restart.
//!
//! A decision reads the statuses of its few candidates (active, leave, capacity, open
//! orders) from storage in one query, so availability changes apply to the very next
//! decision on every server instance.

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use hotline_domain::geo::GeoIndex;
use hotline_domain::ledger::DutyPosts;
use hotline_domain::routing::{
    Candidate, CentreInput, Matter, PersonStatus, Route, RoutingIndex, RoutingPolicy, UnknownVillage,
};
use hotline_domain::{DomainError, InstitutionKind};
use hotline_store::{Institution, RoutingSnapshot, Store, StoredPolicy};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// How often every instance reads the saved routing policy.
pub const POLL: Duration = Duration::from_secs(2);

/// The indexes built from one directory version.
#[derive(Debug, Default)]
pub struct Built {
    /// The directory version they were built from (-1: not built yet).
    pub version: i64,
    pub index: RoutingIndex,
    pub map: MapIndex,
    /// Every duty holder of the directory, for the duty ledger's compliance boards.
    pub duty: DutyPosts,
    names: HashMap<String, String>,
}

/// Institutions on a grid, and village coordinates.
#[derive(Debug, Default)]
pub struct MapIndex {
    pub institutions: Vec<Institution>,
    geo: GeoIndex,
    pub village_coords: HashMap<String, (f64, f64)>,
}

impl MapIndex {
    pub fn new(institutions: Vec<Institution>, village_coords: HashMap<String, (f64, f64)>) -> MapIndex {
        let geo = GeoIndex::new(institutions.iter().map(|i| (i.latitude, i.longitude)).collect());
        MapIndex { institutions, geo, village_coords }
    }

    /// Institutions of the given kinds (any, when empty) within `radius_km`, nearest first.
    pub fn nearby(
        &self,
        lat: f64,
        lon: f64,
        radius_km: f64,
        kinds: &[InstitutionKind],
        limit: usize,
    ) -> Vec<(&Institution, f64)> {
        self.geo
            .within(lat, lon, radius_km, limit, |n| {
                kinds.is_empty() || kinds.contains(&self.institutions[n].kind)
            })
            .into_iter()
            .map(|(n, d)| (&self.institutions[n], d))
            .collect()
    }
}

impl Built {
    pub fn from_snapshot(snap: RoutingSnapshot) -> Built {
        let centres: Vec<CentreInput> = snap
            .institutions
            .iter()
            .filter(|i| matches!(i.kind, InstitutionKind::CommandCentre | InstitutionKind::LegalAidCentre))
            .map(|i| CentreInput { id: i.id.clone(), county_id: i.county_id.clone(), kind: i.kind })
            .collect();
        let index = RoutingIndex::build(&snap.villages, &snap.people, &centres);
        let duty = DutyPosts::build(&snap.villages, &snap.people, &snap.person_names, &snap.townships);
        Built {
            version: snap.version,
            index,
            map: MapIndex::new(snap.institutions, snap.village_coords),
            duty,
            names: snap.person_names,
        }
    }

    /// People's names by id.
    pub fn person_names(&self) -> &HashMap<String, String> {
        &self.names
    }

    pub fn institution_name(&self, id: &str) -> Option<String> {
        self.map.institutions.iter().find(|i| i.id == id).map(|i| i.name.clone())
    }
}

/// The policy in force and where it came from.
#[derive(Debug, Clone)]
pub struct PolicyInForce {
    pub policy: RoutingPolicy,
    /// Set when an administrator saved it.
    pub updated_by: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Routing state shared by the services.
pub struct Routing {
    built: RwLock<Arc<Built>>,
    rebuilding: tokio::sync::Mutex<()>,
    policy: RwLock<Arc<PolicyInForce>>,
    stored_policy_loaded: tokio::sync::OnceCell<()>,
    /// Who saved the stored policy last looked at, and when (`None`: none was saved);
    /// held while the saved policy is read or written and put in force, so that a
    /// reading of an older one never replaces a newer one.
    stored_policy_seen: tokio::sync::Mutex<Option<(Uuid, DateTime<Utc>)>>,
}

impl std::fmt::Debug for Routing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routing").finish_non_exhaustive()
    }
}

impl Routing {
    /// Routing with the configured (or built-in) policy; the indexes are built on first use.
    pub fn new(policy: RoutingPolicy) -> Routing {
        Routing {
            built: RwLock::new(Arc::new(Built { version: -1, ..Default::default() })),
            rebuilding: tokio::sync::Mutex::new(()),
            policy: RwLock::new(Arc::new(PolicyInForce { policy, updated_by: None, updated_at: None })),
            stored_policy_loaded: tokio::sync::OnceCell::new(),
            stored_policy_seen: tokio::sync::Mutex::new(None),
        }
    }

    fn loaded(&self) -> Arc<Built> {
        self.built.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The indexes for the directory as it is now, rebuilt when an import moved the
    /// directory version since they were built.
    pub async fn current(&self, store: &dyn Store) -> ApiResult<Arc<Built>> {
        let version = store.directory_version().await?;
        self.at_version(store, version).await
    }

    /// The indexes for directory `version` or a later one, read by the caller with the
    /// rows it judges against them (which spares a query of the version): rebuilt when
    /// the ones held are older.
    pub async fn at_version(&self, store: &dyn Store, version: i64) -> ApiResult<Arc<Built>> {
        let built = self.loaded();
        if built.version >= version {
            return Ok(built);
        }
        let _guard = self.rebuilding.lock().await;
        let built = self.loaded();
        if built.version >= version {
            return Ok(built);
        }
        let started = std::time::Instant::now();
        let snap = store.routing_snapshot().await?;
        let built = Arc::new(Built::from_snapshot(snap));
        tracing::info!(
            version = built.version,
            villages = built.index.village_count(),
            institutions = built.map.institutions.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "routing and map indexes built"
        );
        *self.built.write().unwrap_or_else(|e| e.into_inner()) = built.clone();
        Ok(built)
    }

    /// The policy in force; an administrator's saved policy replaces the configured one
    /// the first time it is needed.
    pub async fn policy(&self, store: &dyn Store) -> ApiResult<Arc<PolicyInForce>> {
        self.stored_policy_loaded
            .get_or_try_init(|| async { self.refresh_policy(store).await.map(|_| ()) })
            .await?;
        Ok(self.policy.read().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Reads the saved policy and puts it in force when it is not the one last read:
    /// whether it changed.
    pub async fn refresh_policy(&self, store: &dyn Store) -> ApiResult<bool> {
        let mut seen = self.stored_policy_seen.lock().await;
        let Some(stored) = store.stored_routing_policy().await? else { return Ok(false) };
        if *seen == Some((stored.updated_by, stored.updated_at)) {
            return Ok(false);
        }
        *seen = Some((stored.updated_by, stored.updated_at));
        match RoutingPolicy::from_toml(&stored.document) {
            Ok(policy) => self.install(policy, &stored),
            Err(e) => {
                tracing::error!(error = %e, "the saved routing policy does not parse; keeping the one in force");
            }
        }
        Ok(true)
    }

    fn install(&self, policy: RoutingPolicy, stored: &StoredPolicy) {
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(PolicyInForce {
            policy,
            updated_by: Some(stored.updated_by),
            updated_at: Some(stored.updated_at),
        });
    }

    /// Saves a new policy and puts it in force.
    pub async fn set_policy(
        &self,
        store: &dyn Store,
        policy: RoutingPolicy,
        stored: StoredPolicy,
    ) -> ApiResult<Arc<PolicyInForce>> {
        // Load any earlier saved policy first, so it cannot overwrite this one later.
        self.policy(store).await?;
        let mut seen = self.stored_policy_seen.lock().await;
        store.save_routing_policy(&stored).await?;
        *seen = Some((stored.updated_by, stored.updated_at));
        self.install(policy, &stored);
        drop(seen);
        self.policy(store).await
    }

    /// Routes an order from this village, reading its candidates' statuses at `now`.
    pub async fn route(
        &self,
        store: &dyn Store,
        village_id: &str,
        matter: &Matter,
        now: DateTime<Utc>,
    ) -> ApiResult<Route> {
        let (built, policy) = (self.current(store).await?, self.policy(store).await?);
        let choice = policy.policy.choose_for(matter);
        let status = statuses(store, &built, village_id, choice.level, now).await?;
        built.index.route(village_id, choice, &status).map_err(unknown)
    }

    /// The ranked candidates and the route routing would choose.
    pub async fn suggest(
        &self,
        store: &dyn Store,
        village_id: &str,
        matter: &Matter,
        now: DateTime<Utc>,
    ) -> ApiResult<(Arc<Built>, Vec<Candidate>, Route)> {
        let (built, policy) = (self.current(store).await?, self.policy(store).await?);
        let choice = policy.policy.choose_for(matter);
        let status = statuses(store, &built, village_id, choice.level, now).await?;
        let candidates = built.index.candidates(village_id, choice.level, &status).map_err(unknown)?;
        let route = built.index.route(village_id, choice, &status).map_err(unknown)?;
        Ok((built, candidates, route))
    }
}

async fn statuses(
    store: &dyn Store,
    built: &Built,
    village_id: &str,
    level: hotline_domain::Level,
    now: DateTime<Utc>,
) -> ApiResult<HashMap<String, PersonStatus>> {
    let ids: Vec<String> = built
        .index
        .candidate_ids(village_id, level)
        .map_err(unknown)?
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(store.candidate_status(&ids, now).await?)
}

fn unknown(e: UnknownVillage) -> ApiError {
    DomainError::Precondition(format!("{e}: the directory has no township or county for it")).into()
}

/// Every [`POLL`], takes in a routing policy saved through another instance.
pub async fn follow(app: crate::app::App) {
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match app.routing.refresh_policy(app.store.as_ref()).await {
            Ok(true) => tracing::info!("the saved routing policy is in force"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %tonic::Status::from(e).message(), "reading the saved routing policy failed; keeping the one in force");
            }
        }
    }
}
