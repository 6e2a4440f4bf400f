//! What routing and the map keep: legal service institutions with coordinates, counsel
//! availability (active, capacity, leave periods, and the events that changed them),
//! the edited routing policy, and the reads that routing decisions make.

use crate::{Directory, Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::routing::{PersonInput, PersonStatus, VillageInput};
use hotline_domain::{InstitutionKind, UnitLevel};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A legal service institution on the map: a law firm, legal service office, judicial
/// office, station, village mediation committee or workroom, county command centre or
/// legal aid centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Institution {
    pub id: String,
    pub name: String,
    pub kind: InstitutionKind,
    /// The county-level unit it belongs to.
    pub county_id: String,
    #[serde(default)]
    pub township_id: Option<String>,
    #[serde(default)]
    pub village_id: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Matters it can take at once (for centres and offices), when known.
    #[serde(default)]
    pub capacity: Option<i32>,
}

/// A period a person is away: routing passes them over from `starts_at` (inclusive) to
/// `ends_at` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    pub id: Uuid,
    pub person_id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// One change of a person's availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AvailabilityChange {
    SetActive { active: bool },
    SetCapacity { capacity: i32 },
    AddLeave { leave: Leave },
    CancelLeave { leave_id: Uuid },
}

impl AvailabilityChange {
    /// The event kind that records the change.
    pub fn kind(&self) -> &'static str {
        match self {
            AvailabilityChange::SetActive { active: true } => "activated",
            AvailabilityChange::SetActive { active: false } => "deactivated",
            AvailabilityChange::SetCapacity { .. } => "capacity_changed",
            AvailabilityChange::AddLeave { .. } => "leave_added",
            AvailabilityChange::CancelLeave { .. } => "leave_cancelled",
        }
    }
}

/// An entry of a person's availability history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityEvent {
    pub id: i64,
    pub person_id: String,
    /// `activated`, `deactivated`, `capacity_changed`, `leave_added`, `leave_cancelled`.
    pub kind: String,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
    /// The change's data (the new value, or the leave period).
    pub payload: serde_json::Value,
}

/// A person's availability as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub person_id: String,
    pub active: bool,
    pub capacity: i32,
    pub open_orders: i64,
    /// Leave periods not yet over and not cancelled, earliest first.
    pub leaves: Vec<Leave>,
    /// The latest changes, newest first (at most [`AVAILABILITY_HISTORY`]).
    pub events: Vec<AvailabilityEvent>,
}

/// How many availability events [`RoutingStore::availability`] returns.
pub const AVAILABILITY_HISTORY: i64 = 50;

/// A policy document as an administrator last saved it (the routing policy, the
/// time-limit policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// The TOML document.
    pub document: String,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// Everything the routing index and the map are built from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutingSnapshot {
    /// The directory version this snapshot was read at.
    pub version: i64,
    pub villages: Vec<VillageInput>,
    /// Village coordinates (latitude, longitude), for villages that have them.
    pub village_coords: HashMap<String, (f64, f64)>,
    pub people: Vec<PersonInput>,
    /// Each person's name, for candidate lists.
    pub person_names: HashMap<String, String>,
    pub institutions: Vec<Institution>,
    /// Every township in a county, by id: the teams of the duty ledger.
    pub townships: Vec<hotline_domain::ledger::TeamPost>,
}

impl RoutingSnapshot {
    /// The snapshot storage would give after importing `dir` into an empty store (for
    /// tools and benchmarks that work without a database).
    pub fn from_directory(dir: &Directory) -> RoutingSnapshot {
        let parents: HashMap<&str, &str> =
            dir.units.iter().filter_map(|u| Some((u.id.as_str(), u.parent_id.as_deref()?))).collect();
        let mut snap = RoutingSnapshot::default();
        let mut units: Vec<&crate::Unit> =
            dir.units.iter().filter(|u| u.level == UnitLevel::Village).collect();
        units.sort_by(|a, b| a.id.cmp(&b.id));
        for u in units {
            let Some(township) = u.parent_id.as_deref() else { continue };
            let Some(county) = parents.get(township) else { continue };
            if let (Some(lat), Some(lon)) = (u.latitude, u.longitude) {
                snap.village_coords.insert(u.id.clone(), (lat, lon));
            }
            snap.villages.push(VillageInput {
                id: u.id.clone(),
                township_id: township.to_owned(),
                county_id: (*county).to_owned(),
            });
        }
        for p in &dir.people {
            snap.person_names.insert(p.id.clone(), p.name.clone());
            snap.people.push(PersonInput {
                id: p.id.clone(),
                team_township_id: p.team_township_id.clone(),
                lead: p.team_role == Some(crate::TeamRole::Lead),
                villages: p.villages.clone(),
            });
        }
        snap.people.sort_by(|a, b| a.id.cmp(&b.id));
        snap.institutions = dir.institutions.clone();
        snap.institutions.sort_by(|a, b| a.id.cmp(&b.id));
        let mut townships: Vec<&crate::Unit> =
            dir.units.iter().filter(|u| u.level == UnitLevel::Township).collect();
        townships.sort_by(|a, b| a.id.cmp(&b.id));
        snap.townships = townships
            .into_iter()
            .filter_map(|u| {
                Some(hotline_domain::ledger::TeamPost {
                    township_id: u.id.clone(),
                    county_id: u.parent_id.clone()?,
                })
            })
            .collect();
        snap
    }
}

/// Storage for routing, availability and the map. Every write is one transaction.
#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// A number that grows with every directory import, so that in-memory indexes know
    /// when to rebuild.
    async fn directory_version(&self) -> Result<i64>;
    /// The whole directory as routing and the map need it.
    async fn routing_snapshot(&self) -> Result<RoutingSnapshot>;
    /// Availability and open-order counts of these people at `at`, in one query. People
    /// not in storage are left out.
    async fn candidate_status(
        &self,
        person_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<HashMap<String, PersonStatus>>;
    /// Applies the changes and records each as an event, all in one transaction (none
    /// when one fails). NotFound for an unknown person, or (cancelling) a leave that is
    /// not theirs or already cancelled.
    async fn change_availability(
        &self,
        person_id: &str,
        changes: &[AvailabilityChange],
        actor_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<AvailabilityEvent>>;
    /// The person's availability at `at`. NotFound for an unknown person.
    async fn availability(&self, person_id: &str, at: DateTime<Utc>) -> Result<Availability>;
    async fn stored_routing_policy(&self) -> Result<Option<StoredPolicy>>;
    async fn save_routing_policy(&self, policy: &StoredPolicy) -> Result<()>;
}

/// Ids of units the batch's institutions refer to, for [`crate::directory_lookups`].
pub fn institution_refs(dir: &Directory) -> impl Iterator<Item = &str> {
    dir.institutions.iter().flat_map(|i| {
        std::iter::once(i.county_id.as_str()).chain(i.township_id.as_deref()).chain(i.village_id.as_deref())
    })
}

/// Refuses institutions with an empty or repeated id, coordinates off the earth, or a
/// county, township or village reference that does not resolve to a unit of that level.
pub fn check_institutions(
    dir: &Directory,
    level_of: &dyn Fn(&str) -> Option<UnitLevel>,
) -> std::result::Result<(), StoreError> {
    let invalid = |msg: String| Err(StoreError::Invalid(msg));
    let mut ids = HashSet::new();
    for (i, inst) in dir.institutions.iter().enumerate() {
        if inst.id.is_empty() {
            return invalid(format!("institutions[{i}].id: must not be empty"));
        }
        if !ids.insert(inst.id.as_str()) {
            return invalid(format!("institutions[{i}].id: institution `{}` appears twice", inst.id));
        }
        if !(-90.0..=90.0).contains(&inst.latitude) || !(-180.0..=180.0).contains(&inst.longitude) {
            return invalid(format!("institutions[{i}]: coordinates out of range"));
        }
        let refs = [
            ("county_id", Some(inst.county_id.as_str()), UnitLevel::County),
            ("township_id", inst.township_id.as_deref(), UnitLevel::Township),
            ("village_id", inst.village_id.as_deref(), UnitLevel::Village),
        ];
        for (field, id, want) in refs {
            let Some(id) = id else { continue };
            match level_of(id) {
                None => return invalid(format!("institutions[{i}].{field}: {want} `{id}` not found")),
                Some(l) if l != want => {
                    return invalid(format!("institutions[{i}].{field}: `{id}` is a {l}, not a {want}"));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}
