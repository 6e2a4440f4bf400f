//! Where units and people sit in the administrative tree, as the index knows it: what
//! a dispatch target and a jurisdiction check ask of the directory.
//!
//! A person *serves* a unit when the unit is a village they counsel or the township
//! whose legal service team they are on (as lead or member). A county (its command
//! centre or legal aid centre) and the city are served by no one person. A counsel of
//! several villages serves each of them; a team member who also counsels villages
//! serves their team's township and those villages.

use super::RoutingIndex;
use crate::model::UnitLevel;

/// A unit's place in the tree: its county, and its township and village when it lies
/// below the county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitPath<'a> {
    pub county: &'a str,
    pub township: Option<&'a str>,
    pub village: Option<&'a str>,
}

impl UnitPath<'_> {
    pub fn level(&self) -> UnitLevel {
        match (self.township, self.village) {
            (_, Some(_)) => UnitLevel::Village,
            (Some(_), None) => UnitLevel::Township,
            (None, None) => UnitLevel::County,
        }
    }

    /// Whether the two units share any ground: one lies within the other (or they are
    /// the same unit).
    pub fn overlaps(&self, other: &UnitPath<'_>) -> bool {
        let agree = |a: Option<&str>, b: Option<&str>| a.is_none() || b.is_none() || a == b;
        self.county == other.county
            && agree(self.township, other.township)
            && agree(self.village, other.village)
    }
}

impl RoutingIndex {
    /// The place of a county, township or village of the index; `None` for the city and
    /// for ids the index does not hold.
    pub fn unit_path(&self, unit_id: &str) -> Option<UnitPath<'_>> {
        if let Some((id, v)) = self.villages.get_key_value(unit_id) {
            return Some(self.township_path(v.township, Some(id.as_str())));
        }
        if let Some(&t) = self.township_ix.get(unit_id) {
            return Some(self.township_path(t, None));
        }
        self.counties.iter().find(|c| c.id == unit_id).map(|c| UnitPath {
            county: c.id.as_str(),
            township: None,
            village: None,
        })
    }

    fn township_path<'a>(&'a self, township: u32, village: Option<&'a str>) -> UnitPath<'a> {
        let t = &self.townships[township as usize];
        UnitPath {
            county: self.counties[t.county as usize].id.as_str(),
            township: Some(t.id.as_str()),
            village,
        }
    }

    /// Where a person serves: their team's township and the villages they counsel.
    /// Empty for a person the index does not hold.
    pub fn person_paths(&self, person_id: &str) -> Vec<UnitPath<'_>> {
        let Some(&p) = self.person_ix.get(person_id) else { return Vec::new() };
        let team = self.team_of[p as usize].map(|t| self.township_path(t, None));
        let villages = self.villages_of[p as usize].iter().filter_map(|v| self.unit_path(v));
        team.into_iter().chain(villages).collect()
    }

    /// Whether the person serves the unit (see the module's docs).
    pub fn serves(&self, person_id: &str, unit_id: &str) -> bool {
        let Some(&p) = self.person_ix.get(person_id) else { return false };
        match self.township_ix.get(unit_id) {
            Some(&t) => self.team_of[p as usize] == Some(t),
            None => self.villages_of[p as usize].iter().any(|v| v == unit_id),
        }
    }
}
