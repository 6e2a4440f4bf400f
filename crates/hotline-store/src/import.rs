//! Checking a directory before it is imported, shared by the backends so both refuse the
//! same input with the same words.
//!
//! A backend calls [`directory_lookups`] to learn which ids the batch refers to but does
//! not define, reads those from storage into a [`StoredDirectory`], and calls
//! [`check_directory`] before it writes anything.

use crate::{Directory, StoreError};
use hotline_domain::UnitLevel;
use std::collections::{HashMap, HashSet};

/// What storage already holds that a batch refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredDirectory {
    /// Level of each stored unit the batch refers to but does not define.
    pub unit_levels: HashMap<String, UnitLevel>,
    /// Stored stations (township id -> station id) of the townships the batch's stations
    /// name, excluding stations the batch itself defines.
    pub stations_by_township: HashMap<String, String>,
}

/// What to read from storage before checking a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryLookups {
    /// Unit ids referred to (as parent, township or village) that the batch does not define.
    pub unit_ids: Vec<String>,
    /// Townships that the batch's stations are placed in.
    pub station_townships: Vec<String>,
    /// Ids of the stations the batch defines (to leave out of `stations_by_township`).
    pub station_ids: Vec<String>,
}

/// The level a unit's parent must have, `None` for the city (no parent).
pub fn parent_level(level: UnitLevel) -> Option<UnitLevel> {
    match level {
        UnitLevel::City => None,
        UnitLevel::County => Some(UnitLevel::City),
        UnitLevel::Township => Some(UnitLevel::County),
        UnitLevel::Village => Some(UnitLevel::Township),
    }
}

/// Which ids of a batch storage must resolve.
pub fn directory_lookups(dir: &Directory) -> DirectoryLookups {
    let defined: HashSet<&str> = dir.units.iter().map(|u| u.id.as_str()).collect();
    let mut seen = HashSet::new();
    let mut unit_ids = Vec::new();
    let mut want = |id: &str| {
        if !defined.contains(id) && seen.insert(id.to_owned()) {
            unit_ids.push(id.to_owned());
        }
    };
    for u in &dir.units {
        if let Some(p) = &u.parent_id {
            want(p);
        }
    }
    for s in &dir.stations {
        want(&s.township_id);
    }
    for p in &dir.people {
        if let Some(t) = &p.team_township_id {
            want(t);
        }
        for v in &p.villages {
            want(v);
        }
    }
    for id in crate::institution_refs(dir) {
        want(id);
    }
    let mut townships: Vec<String> = dir.stations.iter().map(|s| s.township_id.clone()).collect();
    townships.sort();
    townships.dedup();
    DirectoryLookups {
        unit_ids,
        station_townships: townships,
        station_ids: dir.stations.iter().map(|s| s.id.clone()).collect(),
    }
}

/// Refuses a batch whose references do not resolve (within it or in `stored`), whose
/// levels do not fit (a village's parent is a township, a counsel's villages are
/// villages, ...), or that names one id twice. The message names the record and field,
/// e.g. ``people[12].villages[0]: village `3715020010` not found``.
pub fn check_directory(dir: &Directory, stored: &StoredDirectory) -> Result<(), StoreError> {
    let invalid = |msg: String| Err(StoreError::Invalid(msg));
    let mut levels: HashMap<&str, UnitLevel> = HashMap::with_capacity(dir.units.len());
    for (i, u) in dir.units.iter().enumerate() {
        if u.id.is_empty() {
            return invalid(format!("units[{i}].id: must not be empty"));
        }
        if levels.insert(u.id.as_str(), u.level).is_some() {
            return invalid(format!("units[{i}].id: unit `{}` appears twice", u.id));
        }
    }
    let level_of = |id: &str| -> Option<UnitLevel> {
        levels.get(id).copied().or_else(|| stored.unit_levels.get(id).copied())
    };
    // A reference to a unit that must have `want` level.
    let check_ref = |field: String, id: &str, want: UnitLevel| -> Result<(), StoreError> {
        match level_of(id) {
            None => Err(StoreError::Invalid(format!("{field}: {want} `{id}` not found"))),
            Some(l) if l != want => {
                Err(StoreError::Invalid(format!("{field}: `{id}` is a {l}, not a {want}")))
            }
            Some(_) => Ok(()),
        }
    };

    for (i, u) in dir.units.iter().enumerate() {
        match (parent_level(u.level), &u.parent_id) {
            (None, None) => {}
            (None, Some(_)) => {
                return invalid(format!("units[{i}].parent_id: a {} has no parent", u.level));
            }
            (Some(want), None) => {
                return invalid(format!("units[{i}].parent_id: a {} needs a {want} as parent", u.level));
            }
            (Some(want), Some(p)) => match level_of(p) {
                None => return invalid(format!("units[{i}].parent_id: unit `{p}` not found")),
                Some(l) if l != want => {
                    return invalid(format!(
                        "units[{i}].parent_id: `{p}` is a {l}; a {}'s parent must be a {want}",
                        u.level
                    ));
                }
                Some(_) => {}
            },
        }
    }

    let mut station_ids = HashSet::new();
    let mut station_of_township: HashMap<&str, &str> = HashMap::new();
    for (i, s) in dir.stations.iter().enumerate() {
        if s.id.is_empty() {
            return invalid(format!("stations[{i}].id: must not be empty"));
        }
        if !station_ids.insert(s.id.as_str()) {
            return invalid(format!("stations[{i}].id: station `{}` appears twice", s.id));
        }
        check_ref(format!("stations[{i}].township_id"), &s.township_id, UnitLevel::Township)?;
        if let Some(other) = station_of_township.insert(s.township_id.as_str(), s.id.as_str()) {
            return invalid(format!(
                "stations[{i}].township_id: township `{}` already has station `{other}`",
                s.township_id
            ));
        }
        if let Some(other) = stored.stations_by_township.get(&s.township_id)
            && other != &s.id
        {
            return invalid(format!(
                "stations[{i}].township_id: township `{}` already has station `{other}`",
                s.township_id
            ));
        }
    }

    let mut person_ids = HashSet::new();
    for (i, p) in dir.people.iter().enumerate() {
        if p.id.is_empty() {
            return invalid(format!("people[{i}].id: must not be empty"));
        }
        if !person_ids.insert(p.id.as_str()) {
            return invalid(format!("people[{i}].id: person `{}` appears twice", p.id));
        }
        if let Some(t) = &p.team_township_id {
            check_ref(format!("people[{i}].team_township_id"), t, UnitLevel::Township)?;
        }
        let mut villages = HashSet::new();
        for (j, v) in p.villages.iter().enumerate() {
            check_ref(format!("people[{i}].villages[{j}]"), v, UnitLevel::Village)?;
            if !villages.insert(v.as_str()) {
                return invalid(format!("people[{i}].villages[{j}]: village `{v}` is listed twice"));
            }
        }
    }
    crate::check_institutions(dir, &level_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Person, PersonKind, Station, Unit};

    fn unit(id: &str, parent: Option<&str>, level: UnitLevel) -> Unit {
        Unit {
            id: id.into(),
            parent_id: parent.map(Into::into),
            level,
            name: id.into(),
            latitude: None,
            longitude: None,
        }
    }

    fn person(id: &str, villages: &[&str]) -> Person {
        Person {
            id: id.into(),
            name: id.into(),
            kind: PersonKind::Lawyer,
            organization: None,
            phone: None,
            team_township_id: None,
            team_role: None,
            villages: villages.iter().map(|v| v.to_string()).collect(),
            active: true,
            capacity: 10,
            photo_ref: None,
        }
    }

    fn dir() -> Directory {
        Directory {
            units: vec![
                unit("c", None, UnitLevel::City),
                unit("k", Some("c"), UnitLevel::County),
                unit("t", Some("k"), UnitLevel::Township),
                unit("v", Some("t"), UnitLevel::Village),
            ],
            stations: vec![Station {
                id: "s".into(),
                township_id: "t".into(),
                name: "s".into(),
                phone: None,
                address: None,
            }],
            people: vec![person("p", &["v"])],
            ..Default::default()
        }
    }

    fn message(r: Result<(), StoreError>) -> String {
        match r {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_whole_tree_passes_and_lookups_are_external_only() {
        let d = dir();
        check_directory(&d, &StoredDirectory::default()).unwrap();
        let l = directory_lookups(&d);
        assert!(l.unit_ids.is_empty());
        assert_eq!(l.station_townships, vec!["t".to_string()]);
    }

    #[test]
    fn references_resolve_in_storage() {
        let d = Directory {
            units: vec![unit("v2", Some("t"), UnitLevel::Village)],
            people: vec![person("p", &["v", "v2"])],
            ..Default::default()
        };
        let l = directory_lookups(&d);
        assert_eq!(l.unit_ids, vec!["t".to_string(), "v".to_string()]);
        let mut stored = StoredDirectory::default();
        stored.unit_levels.insert("t".into(), UnitLevel::Township);
        assert_eq!(message(check_directory(&d, &stored)), "people[0].villages[0]: village `v` not found");
        stored.unit_levels.insert("v".into(), UnitLevel::Village);
        check_directory(&d, &stored).unwrap();
    }

    #[test]
    fn bad_input_is_named() {
        let mut d = dir();
        d.people[0].villages = vec!["v".into(), "t".into()];
        assert_eq!(
            message(check_directory(&d, &StoredDirectory::default())),
            "people[0].villages[1]: `t` is a township, not a village"
        );
        let mut d = dir();
        d.units[3].parent_id = Some("k".into());
        assert_eq!(
            message(check_directory(&d, &StoredDirectory::default())),
            "units[3].parent_id: `k` is a county; a village's parent must be a township"
        );
        let mut d = dir();
        d.units.push(unit("k", Some("c"), UnitLevel::County));
        assert_eq!(
            message(check_directory(&d, &StoredDirectory::default())),
            "units[4].id: unit `k` appears twice"
        );
        let mut d = dir();
        d.units[1].parent_id = None;
        assert_eq!(
            message(check_directory(&d, &StoredDirectory::default())),
            "units[1].parent_id: a county needs a city as parent"
        );
        let mut stored = StoredDirectory::default();
        stored.stations_by_township.insert("t".into(), "old".into());
        assert_eq!(
            message(check_directory(&dir(), &stored)),
            "stations[0].township_id: township `t` already has station `old`"
        );
    }
}
