//! Routing a work order to the right person in the right place.
//!
//! Two parts, both pure:
//!
//! - [`RoutingPolicy`]: data saying, per category and subcategory, which level handles
//!   an order (village counsel, township team, station lead, county command centre,
//!   legal aid centre) and when the amount in dispute moves it up a level. Built-in
//!   defaults, overlaid by a TOML document.
//! - [`RoutingIndex`]: the directory reduced to what routing needs (village -> counsel,
//!   township -> team members and lead, county -> command centre and legal aid centre),
//!   built once and shared. [`RoutingIndex::route`] walks the fallback chain from the
//!   policy's level: village counsel -> the township team member with the fewest open
//!   orders -> the station lead -> the county command centre. A person who is inactive,
//!   on leave or at capacity (open orders at or above their limit) is skipped, and the
//!   decision says which rule applied and who was skipped and why.
//!
//! The state of each candidate ([`PersonStatus`]) is passed in, so the server reads it
//! fresh from storage for the few candidates of one decision.

use crate::model::{Category, Subcategory};
use crate::named_enum;
use crate::order::Target;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

mod escalate;
mod places;
pub use escalate::Escalation;
pub use places::UnitPath;

named_enum!(
    /// The level that handles an order first.
    Level {
        /// The village's legal counsel (村居法律顾问).
        VillageCounsel => "village_counsel",
        /// A member of the township's legal service team, the one with the fewest open orders.
        TownshipTeam => "township_team",
        /// The lead of the township's station (the judicial office).
        StationLead => "station_lead",
        /// The county's public legal service command centre.
        CountyCentre => "county_centre",
        /// The county's legal aid centre.
        LegalAidCentre => "legal_aid_centre",
    }
);

impl Level {
    /// The level a threshold moves an order up to, unless the policy names one.
    pub fn up(self) -> Level {
        match self {
            Level::VillageCounsel => Level::TownshipTeam,
            Level::TownshipTeam => Level::StationLead,
            Level::StationLead | Level::CountyCentre | Level::LegalAidCentre => Level::CountyCentre,
        }
    }

    /// The fallback chain that starts at this level.
    pub fn chain(self) -> &'static [Step] {
        match self {
            Level::VillageCounsel => {
                &[Step::VillageCounsel, Step::TeamMember, Step::StationLead, Step::CountyCentre]
            }
            Level::TownshipTeam => &[Step::TeamMember, Step::StationLead, Step::CountyCentre],
            Level::StationLead => &[Step::StationLead, Step::CountyCentre],
            Level::CountyCentre => &[Step::CountyCentre],
            Level::LegalAidCentre => &[Step::LegalAidCentre, Step::CountyCentre],
        }
    }
}

named_enum!(
    /// One step of a fallback chain.
    Step {
        VillageCounsel => "village_counsel",
        TeamMember => "team_member",
        StationLead => "station_lead",
        CountyCentre => "county_centre",
        LegalAidCentre => "legal_aid_centre",
    }
);

named_enum!(
    /// Why a candidate was passed over.
    SkipReason {
        Inactive => "inactive",
        OnLeave => "on_leave",
        AtCapacity => "at_capacity",
        /// No availability was known for the person (not in storage any more).
        Unknown => "unknown",
    }
);

named_enum!(
    /// Kinds of legal service institution on the map.
    InstitutionKind {
        /// 律师事务所
        LawFirm => "law_firm",
        /// 法律服务所
        LegalServiceOffice => "legal_service_office",
        /// 司法所
        JudicialOffice => "judicial_office",
        /// 法律服务工作站 (township)
        LegalServiceStation => "legal_service_station",
        /// 村（居）人民调解委员会
        MediationCommittee => "mediation_committee",
        /// 村居法律顾问工作室
        VillageWorkroom => "village_workroom",
        /// 公共法律服务指挥中心 (county)
        CommandCentre => "command_centre",
        /// 法律援助中心 (county)
        LegalAidCentre => "legal_aid_centre",
    }
);

// ---- policy ---------------------------------------------------------------------------

/// What one category (or one subcategory of it) is routed by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The level that handles it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// An amount in dispute above this (yuan) moves the order up.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_decimal")]
    pub escalate_above: Option<Decimal>,
    /// More parties than this (a group dispute) moves the order up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_parties_above: Option<u32>,
    /// Where a threshold moves it; the next level up when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_to: Option<Level>,
}

/// A category's rule and its subcategories' overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    #[serde(flatten)]
    pub rule: Rule,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subcategory: BTreeMap<Subcategory, Rule>,
}

/// The routing policy: per category (and subcategory) the first level and the
/// thresholds that move an order up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingPolicy {
    #[serde(default)]
    pub category: BTreeMap<Category, CategoryRule>,
}

mod opt_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
        }
        let raw = Option::<Raw>::deserialize(d)?;
        let value = match raw {
            None => return Ok(None),
            Some(Raw::Int(i)) => Decimal::from(i),
            Some(Raw::Text(t)) => Decimal::from_str(t.trim())
                .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a decimal amount of yuan")))?,
        };
        if value.is_sign_negative() {
            return Err(serde::de::Error::custom("an amount must not be negative"));
        }
        Ok(Some(value))
    }
}

/// The built-in policy, as TOML (also what `GetRoutingPolicy` shows before any edit).
pub const DEFAULT_POLICY_TOML: &str = r#"# Small matters stay in the village, big ones go to the township.
[category.consultation]
level = "village_counsel"

[category.consultation.subcategory.administrative_matter]
level = "township_team"

[category.consultation.subcategory.criminal_matter]
level = "township_team"

[category.mediation]
level = "village_counsel"
escalate_above = "50000"
escalate_parties_above = 5
escalate_to = "township_team"

[category.mediation.subcategory.land_contract]
level = "village_counsel"
escalate_above = "20000"

[category.mediation.subcategory.labour_wages]
level = "township_team"
escalate_above = "200000"
escalate_to = "county_centre"

[category.legal_aid]
level = "station_lead"

[category.legal_education]
level = "village_counsel"
"#;

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routing policy: {0}")]
pub struct RoutingPolicyError(pub String);

/// The level and the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChoice {
    pub level: Level,
    /// The policy key that decided, e.g. `category.mediation.subcategory.land_contract`,
    /// with `.escalate_above` when a threshold moved the order up.
    pub rule: String,
    /// Set when the amount in dispute moved the order up: the limit that was passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_above: Option<Decimal>,
    /// Set when the number of parties moved the order up: the limit that was passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_parties_above: Option<u32>,
}

/// What routing knows of a matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matter {
    pub category: Category,
    pub subcategory: Subcategory,
    /// The amount in dispute, yuan.
    pub amount: Option<Decimal>,
    /// How many parties the dispute involves, when known.
    pub parties: Option<u32>,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        toml::from_str(DEFAULT_POLICY_TOML).expect("the built-in routing policy parses")
    }
}

impl RoutingPolicy {
    /// Parses a policy document. Categories it names replace the built-in rules of those
    /// categories; the others keep the built-in rules. Unknown keys, categories,
    /// subcategories and levels are refused, naming them.
    pub fn from_toml(text: &str) -> Result<RoutingPolicy, RoutingPolicyError> {
        let parsed: RoutingPolicy = toml::from_str(text).map_err(|e| RoutingPolicyError(e.to_string()))?;
        let mut policy = RoutingPolicy::default();
        for (category, rule) in parsed.category {
            policy.category.insert(category, rule);
        }
        Ok(policy)
    }

    /// The policy as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a routing policy serialises")
    }

    /// The level for an order, and the rule that chose it. A subcategory rule overrides
    /// its category field by field; a category with no rule goes to the village counsel.
    pub fn choose(
        &self,
        category: Category,
        subcategory: Subcategory,
        amount: Option<Decimal>,
    ) -> RuleChoice {
        self.choose_for(&Matter { category, subcategory, amount, parties: None })
    }

    /// As [`RoutingPolicy::choose`], with every threshold: the amount in dispute is
    /// checked first, then the number of parties.
    pub fn choose_for(&self, matter: &Matter) -> RuleChoice {
        let Matter { category, subcategory, amount, parties } = *matter;
        let mut rule_name = format!("category.{category}");
        let mut rule = Rule::default();
        if let Some(c) = self.category.get(&category) {
            rule = c.rule.clone();
            if let Some(s) = c.subcategory.get(&subcategory) {
                rule_name = format!("category.{category}.subcategory.{subcategory}");
                rule.level = s.level.or(rule.level);
                rule.escalate_above = s.escalate_above.or(rule.escalate_above);
                rule.escalate_parties_above = s.escalate_parties_above.or(rule.escalate_parties_above);
                rule.escalate_to = s.escalate_to.or(rule.escalate_to);
            }
        } else {
            rule_name = "default".to_owned();
        }
        let level = rule.level.unwrap_or(Level::VillageCounsel);
        let up = rule.escalate_to.unwrap_or(level.up());
        if let (Some(limit), Some(amount)) = (rule.escalate_above, amount)
            && amount > limit
        {
            return RuleChoice {
                level: up,
                rule: format!("{rule_name}.escalate_above"),
                escalated_above: Some(limit),
                escalated_parties_above: None,
            };
        }
        if let (Some(limit), Some(parties)) = (rule.escalate_parties_above, parties)
            && parties > limit
        {
            return RuleChoice {
                level: up,
                rule: format!("{rule_name}.escalate_parties_above"),
                escalated_above: None,
                escalated_parties_above: Some(limit),
            };
        }
        RuleChoice { level, rule: rule_name, escalated_above: None, escalated_parties_above: None }
    }
}

// ---- the index ------------------------------------------------------------------------

/// A village as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageInput {
    pub id: String,
    pub township_id: String,
    pub county_id: String,
}

/// A person as routing sees it: their team place and the villages they counsel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInput {
    pub id: String,
    pub team_township_id: Option<String>,
    pub lead: bool,
    pub villages: Vec<String>,
}

/// A county institution orders can escalate to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreInput {
    pub id: String,
    pub county_id: String,
    /// `CommandCentre` or `LegalAidCentre`; other kinds are ignored.
    pub kind: InstitutionKind,
}

/// A candidate's state when the decision is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonStatus {
    pub active: bool,
    pub on_leave: bool,
    pub capacity: i32,
    pub open_orders: i64,
}

impl PersonStatus {
    /// Why this person cannot take one more order, if they cannot.
    pub fn unavailable(&self) -> Option<SkipReason> {
        if !self.active {
            Some(SkipReason::Inactive)
        } else if self.on_leave {
            Some(SkipReason::OnLeave)
        } else if self.open_orders >= i64::from(self.capacity) {
            Some(SkipReason::AtCapacity)
        } else {
            None
        }
    }
}

/// Where the statuses of candidates come from.
pub trait StatusSource {
    fn status(&self, person_id: &str) -> Option<PersonStatus>;
}

impl StatusSource for HashMap<String, PersonStatus> {
    fn status(&self, person_id: &str) -> Option<PersonStatus> {
        self.get(person_id).copied()
    }
}

#[derive(Debug, Clone)]
struct VillageEntry {
    township: u32,
    counsel: Vec<u32>,
}

#[derive(Debug, Clone)]
struct TownshipEntry {
    id: String,
    county: u32,
    members: Vec<u32>,
    leads: Vec<u32>,
}

#[derive(Debug, Clone)]
struct CountyEntry {
    id: String,
    command_centre: Option<String>,
    legal_aid_centre: Option<String>,
}

/// The directory reduced to what routing needs. Cheap to share behind an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct RoutingIndex {
    villages: HashMap<String, VillageEntry>,
    townships: Vec<TownshipEntry>,
    counties: Vec<CountyEntry>,
    people: Vec<String>,
    /// Positions in `townships` and `people` by id.
    township_ix: HashMap<String, u32>,
    person_ix: HashMap<String, u32>,
    /// Per person (as in `people`): the township whose team they are on, and the
    /// villages they counsel (those in the index).
    team_of: Vec<Option<u32>>,
    villages_of: Vec<Vec<String>>,
}

/// A person passed over on the way to the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub person_id: String,
    pub step: Step,
    pub why: SkipReason,
}

/// Why the order went where it went: stored in the dispatch event's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteReason {
    /// The policy rule and the level it chose.
    #[serde(flatten)]
    pub choice: RuleChoice,
    /// The step of the chain that gave the target.
    pub step: Step,
    /// Whether the target is a fallback (not the first step of the chain).
    pub fallback: bool,
    /// Everyone passed over, in the order they were tried.
    pub skipped: Vec<Skipped>,
    /// The county institution, when the target is a centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_id: Option<String>,
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub target: Target,
    pub reason: RouteReason,
}

/// One candidate for the dispatcher's reassign screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub target: Target,
    pub step: Step,
    /// Why the candidate cannot take the order now; `None` when they can.
    pub unavailable: Option<SkipReason>,
    pub status: Option<PersonStatus>,
    pub institution_id: Option<String>,
}

/// Why no route could be found: the place is not in the index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("village `{0}` is not in the routing index")]
pub struct UnknownVillage(pub String);

impl RoutingIndex {
    /// Builds the index. Villages whose township or county is missing are left out;
    /// people on no team still counsel their villages.
    pub fn build(villages: &[VillageInput], people: &[PersonInput], centres: &[CentreInput]) -> RoutingIndex {
        let mut index = RoutingIndex::default();
        let mut township_ix: HashMap<&str, u32> = HashMap::new();
        let mut county_ix: HashMap<&str, u32> = HashMap::new();
        for v in villages {
            let county = *county_ix.entry(v.county_id.as_str()).or_insert_with(|| {
                index.counties.push(CountyEntry {
                    id: v.county_id.clone(),
                    command_centre: None,
                    legal_aid_centre: None,
                });
                (index.counties.len() - 1) as u32
            });
            let township = *township_ix.entry(v.township_id.as_str()).or_insert_with(|| {
                index.townships.push(TownshipEntry {
                    id: v.township_id.clone(),
                    county,
                    members: Vec::new(),
                    leads: Vec::new(),
                });
                (index.townships.len() - 1) as u32
            });
            index.villages.insert(v.id.clone(), VillageEntry { township, counsel: Vec::new() });
        }
        let mut sorted: Vec<&PersonInput> = people.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        for p in sorted {
            let ix = index.people.len() as u32;
            index.people.push(p.id.clone());
            index.person_ix.insert(p.id.clone(), ix);
            let mut team = None;
            if let Some(t) = &p.team_township_id
                && let Some(&t) = township_ix.get(t.as_str())
            {
                team = Some(t);
                let entry = &mut index.townships[t as usize];
                if p.lead {
                    entry.leads.push(ix);
                } else {
                    entry.members.push(ix);
                }
            }
            let mut counselled = Vec::new();
            for v in &p.villages {
                if let Some(entry) = index.villages.get_mut(v) {
                    entry.counsel.push(ix);
                    counselled.push(v.clone());
                }
            }
            index.team_of.push(team);
            index.villages_of.push(counselled);
        }
        index.township_ix = township_ix.into_iter().map(|(id, ix)| (id.to_owned(), ix)).collect();
        let mut centres: Vec<&CentreInput> = centres.iter().collect();
        centres.sort_by(|a, b| a.id.cmp(&b.id));
        for c in centres {
            let Some(&county) = county_ix.get(c.county_id.as_str()) else { continue };
            let entry = &mut index.counties[county as usize];
            let slot = match c.kind {
                InstitutionKind::CommandCentre => &mut entry.command_centre,
                InstitutionKind::LegalAidCentre => &mut entry.legal_aid_centre,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(c.id.clone());
            }
        }
        index
    }

    pub fn village_count(&self) -> usize {
        self.villages.len()
    }

    pub fn contains_village(&self, village_id: &str) -> bool {
        self.villages.contains_key(village_id)
    }

    /// The county of a township, if the township is in the index.
    pub fn county_of_township(&self, township_id: &str) -> Option<&str> {
        self.townships
            .iter()
            .find(|t| t.id == township_id)
            .map(|t| self.counties[t.county as usize].id.as_str())
    }

    fn village(
        &self,
        village_id: &str,
    ) -> Result<(&VillageEntry, &TownshipEntry, &CountyEntry), UnknownVillage> {
        let v = self.villages.get(village_id).ok_or_else(|| UnknownVillage(village_id.to_owned()))?;
        let t = &self.townships[v.township as usize];
        Ok((v, t, &self.counties[t.county as usize]))
    }

    /// Everyone whose status a decision for this village at this level may need.
    pub fn candidate_ids(&self, village_id: &str, level: Level) -> Result<Vec<&str>, UnknownVillage> {
        let (v, t, _) = self.village(village_id)?;
        let mut out: Vec<&str> = Vec::new();
        for step in level.chain() {
            let people: &[u32] = match step {
                Step::VillageCounsel => &v.counsel,
                Step::TeamMember => &t.members,
                Step::StationLead => &t.leads,
                Step::CountyCentre | Step::LegalAidCentre => &[],
            };
            for &p in people {
                let id = self.people[p as usize].as_str();
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    /// Every candidate along the chain, in the order routing would try them: each step's
    /// people ranked by fewest open orders (then by the directory's order), each with
    /// why they cannot take the order, if they cannot. The county centre closes the list.
    pub fn candidates(
        &self,
        village_id: &str,
        level: Level,
        status: &dyn StatusSource,
    ) -> Result<Vec<Candidate>, UnknownVillage> {
        let (v, t, c) = self.village(village_id)?;
        let mut out: Vec<Candidate> = Vec::new();
        let mut seen: Vec<u32> = Vec::new();
        for &step in level.chain() {
            let (people, unit): (&[u32], &str) = match step {
                Step::VillageCounsel => (&v.counsel, village_id),
                Step::TeamMember => (&t.members, &t.id),
                Step::StationLead => (&t.leads, &t.id),
                Step::CountyCentre => {
                    out.push(centre(step, &c.id, c.command_centre.as_deref()));
                    continue;
                }
                Step::LegalAidCentre => {
                    if let Some(id) = &c.legal_aid_centre {
                        out.push(centre(step, &c.id, Some(id)));
                    }
                    continue;
                }
            };
            let mut ranked: Vec<(u32, Option<PersonStatus>, usize)> = people
                .iter()
                .enumerate()
                .filter(|(_, p)| !seen.contains(p))
                .map(|(order, &p)| (p, status.status(&self.people[p as usize]), order))
                .collect();
            seen.extend(people.iter().copied());
            ranked.sort_by_key(|(_, s, order)| (s.map_or(i64::MAX, |s| s.open_orders), *order));
            for (p, s, _) in ranked {
                out.push(Candidate {
                    target: Target {
                        unit_id: unit.to_owned(),
                        assignee_id: Some(self.people[p as usize].clone()),
                    },
                    step,
                    unavailable: match s {
                        Some(s) => s.unavailable(),
                        None => Some(SkipReason::Unknown),
                    },
                    status: s,
                    institution_id: None,
                });
            }
        }
        Ok(out)
    }

    /// Routes one order: the first available candidate along the chain that starts at
    /// the policy's level. The county command centre always takes the order in the end.
    pub fn route(
        &self,
        village_id: &str,
        choice: RuleChoice,
        status: &dyn StatusSource,
    ) -> Result<Route, UnknownVillage> {
        let (v, t, c) = self.village(village_id)?;
        let mut skipped: Vec<Skipped> = Vec::new();
        let first = choice.level.chain()[0];
        let done =
            |target: Target, step: Step, skipped: Vec<Skipped>, institution_id: Option<String>| Route {
                target,
                reason: RouteReason {
                    choice: choice.clone(),
                    step,
                    fallback: step != first,
                    skipped,
                    institution_id,
                },
            };
        for &step in choice.level.chain() {
            let (people, unit): (&[u32], &str) = match step {
                Step::VillageCounsel => (&v.counsel, village_id),
                Step::TeamMember => (&t.members, &t.id),
                Step::StationLead => (&t.leads, &t.id),
                Step::CountyCentre => {
                    let target = Target { unit_id: c.id.clone(), assignee_id: None };
                    return Ok(done(target, step, skipped, c.command_centre.clone()));
                }
                Step::LegalAidCentre => match &c.legal_aid_centre {
                    Some(id) => {
                        let target = Target { unit_id: c.id.clone(), assignee_id: None };
                        return Ok(done(target, step, skipped, Some(id.clone())));
                    }
                    None => continue,
                },
            };
            // The available person with the fewest open orders; ties go to the first listed.
            let mut best: Option<(u32, i64)> = None;
            for &p in people {
                let id = &self.people[p as usize];
                if skipped.iter().any(|s| &s.person_id == id) {
                    continue;
                }
                match status.status(id) {
                    Some(s) => match s.unavailable() {
                        None => {
                            if best.is_none_or(|(_, open)| s.open_orders < open) {
                                best = Some((p, s.open_orders));
                            }
                        }
                        Some(why) => skipped.push(Skipped { person_id: id.clone(), step, why }),
                    },
                    None => skipped.push(Skipped { person_id: id.clone(), step, why: SkipReason::Unknown }),
                }
            }
            if let Some((p, _)) = best {
                let target =
                    Target { unit_id: unit.to_owned(), assignee_id: Some(self.people[p as usize].clone()) };
                return Ok(done(target, step, skipped, None));
            }
        }
        // Every chain ends at the county centre; this is not reached.
        Ok(done(
            Target { unit_id: c.id.clone(), assignee_id: None },
            Step::CountyCentre,
            skipped,
            c.command_centre.clone(),
        ))
    }
}

fn centre(step: Step, county_id: &str, institution: Option<&str>) -> Candidate {
    Candidate {
        target: Target { unit_id: county_id.to_owned(), assignee_id: None },
        step,
        unavailable: None,
        status: None,
        institution_id: institution.map(str::to_owned),
    }
}
