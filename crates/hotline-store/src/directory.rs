//! The directory: the administrative tree, township stations and the people who serve.

use hotline_domain::UnitLevel;
use serde::{Deserialize, Serialize};

/// A node of the administrative tree: the city, a county-level unit, a township or
/// street, a village or community. Ids are division codes or other stable codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    /// `None` only for the city.
    pub parent_id: Option<String>,
    pub level: UnitLevel,
    pub name: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A township's legal service station (法律服务工作站).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub id: String,
    pub township_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    Lawyer,
    LegalServiceWorker,
    JudicialOfficer,
    Mediator,
}

impl PersonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Lawyer => "lawyer",
            PersonKind::LegalServiceWorker => "legal_service_worker",
            PersonKind::JudicialOfficer => "judicial_officer",
            PersonKind::Mediator => "mediator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "lawyer" => PersonKind::Lawyer,
            "legal_service_worker" => PersonKind::LegalServiceWorker,
            "judicial_officer" => PersonKind::JudicialOfficer,
            "mediator" => PersonKind::Mediator,
            _ => return None,
        })
    }
}

/// A person's place on a township's legal service team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    Lead,
    Member,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Lead => "lead",
            TeamRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lead" => Some(TeamRole::Lead),
            "member" => Some(TeamRole::Member),
            _ => None,
        }
    }
}

/// A legal service person: a lawyer, legal service worker or judicial officer. The home
/// organisation (firm, office) is where they are employed; the villages they counsel
/// and the township team they sit on are separate, since counsel are dispatched city-wide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub kind: PersonKind,
    pub organization: Option<String>,
    pub phone: Option<String>,
    /// The township whose legal service team they are on, and their place on it.
    pub team_township_id: Option<String>,
    pub team_role: Option<TeamRole>,
    /// Villages this person is the legal counsel (村居法律顾问) of.
    pub villages: Vec<String>,
    pub active: bool,
    /// Open orders they can carry at once.
    pub capacity: i32,
    /// Their photo on the public disclosure boards: a reference (a URL or a file name)
    /// the console resolves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_ref: Option<String>,
}

/// A whole directory or a part of one, as imported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    #[serde(default)]
    pub units: Vec<Unit>,
    #[serde(default)]
    pub stations: Vec<Station>,
    #[serde(default)]
    pub people: Vec<Person>,
    /// Legal service institutions with coordinates, for the map and for routing to
    /// county centres.
    #[serde(default)]
    pub institutions: Vec<crate::Institution>,
}

/// See [`crate::Store::target_status`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetStatus {
    pub unit_exists: bool,
    /// `None`: no person named, or no such person; `Some(active)` otherwise.
    pub person_active: Option<bool>,
    /// The directory's version in the same read (see
    /// [`crate::routing::RoutingStore::directory_version`]): what the routing index that
    /// judges the target must be built from.
    pub directory_version: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub units: u64,
    pub stations: u64,
    pub people: u64,
    /// Village assignments of counsel written.
    pub counsel_links: u64,
}

/// Filters for listing people. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFilter {
    /// On this township's team.
    pub team_township_id: Option<String>,
    /// Counsel of this village.
    pub village_id: Option<String>,
    pub active_only: bool,
}
