//! Reading a directory file for `hotline directory import`.
//!
//! Two formats:
//! - JSON: `{"units": [...], "stations": [...], "people": [...]}`, the shape of
//!   `hotline_store::Directory` (see docs/operations.md).
//! - CSV: one row per village, the way county offices hand their lists over:
//!   `city_id,city_name,county_id,county_name,township_id,township_name,village_id,
//!   village_name[,latitude,longitude][,counsel_id,counsel_name,counsel_phone,
//!   counsel_organization]`. Units are taken from the rows, each township gets a
//!   station `S<township_id>`, and counsel are collected with all their villages.

use anyhow::{Context, bail};
use hotline_domain::UnitLevel;
use hotline_store::{Directory, Person, PersonKind, Station, Unit};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

pub fn read_file(path: &Path, format: Option<Format>) -> anyhow::Result<Directory> {
    let format = match format {
        Some(f) => f,
        None => match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            _ => {
                bail!("cannot tell the format of {}: name it .json or .csv, or pass --format", path.display())
            }
        },
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let dir = match format {
        Format::Json => parse_json(&text)?,
        Format::Csv => parse_csv(&text)?,
    };
    check(&dir)?;
    Ok(dir)
}

pub fn parse_json(text: &str) -> anyhow::Result<Directory> {
    serde_json::from_str(text).context("directory JSON")
}

#[derive(Debug, serde::Deserialize)]
struct VillageRow {
    city_id: String,
    city_name: String,
    county_id: String,
    county_name: String,
    township_id: String,
    township_name: String,
    village_id: String,
    village_name: String,
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    counsel_id: Option<String>,
    #[serde(default)]
    counsel_name: Option<String>,
    #[serde(default)]
    counsel_phone: Option<String>,
    #[serde(default)]
    counsel_organization: Option<String>,
}

pub fn parse_csv(text: &str) -> anyhow::Result<Directory> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    let mut add = |id: &str, parent: Option<&str>, level, name: &str, lat, lon| {
        units.entry(id.to_owned()).or_insert_with(|| Unit {
            id: id.to_owned(),
            parent_id: parent.map(str::to_owned),
            level,
            name: name.to_owned(),
            latitude: lat,
            longitude: lon,
        });
    };
    for (i, row) in reader.deserialize::<VillageRow>().enumerate() {
        let line = i + 2;
        let r = row.with_context(|| format!("CSV line {line}"))?;
        add(&r.city_id, None, UnitLevel::City, &r.city_name, None, None);
        add(&r.county_id, Some(&r.city_id), UnitLevel::County, &r.county_name, None, None);
        add(&r.township_id, Some(&r.county_id), UnitLevel::Township, &r.township_name, None, None);
        add(
            &r.village_id,
            Some(&r.township_id),
            UnitLevel::Village,
            &r.village_name,
            r.latitude,
            r.longitude,
        );
        if let Some(id) = r.counsel_id.filter(|s| !s.is_empty()) {
            let name = r
                .counsel_name
                .filter(|s| !s.is_empty())
                .with_context(|| format!("CSV line {line}: counsel_name is required with counsel_id"))?;
            let person = people.entry(id.clone()).or_insert_with(|| Person {
                id,
                name,
                kind: PersonKind::Lawyer,
                organization: r.counsel_organization.filter(|s| !s.is_empty()),
                phone: r.counsel_phone.filter(|s| !s.is_empty()),
                team_township_id: None,
                team_role: None,
                villages: Vec::new(),
                active: true,
                capacity: 30,
                photo_ref: None,
            });
            person.villages.push(r.village_id.clone());
        }
    }
    let stations = units
        .values()
        .filter(|u| u.level == UnitLevel::Township)
        .map(|t| Station {
            id: format!("S{}", t.id),
            township_id: t.id.clone(),
            name: format!("{}法律服务工作站", t.name),
            phone: None,
            address: None,
        })
        .collect();
    Ok(Directory {
        units: units.into_values().collect(),
        stations,
        people: people.into_values().collect(),
        institutions: Vec::new(),
    })
}

/// Checks each record on its own; references between records are checked by the store
/// in the import's transaction.
pub fn check(dir: &Directory) -> anyhow::Result<()> {
    let text = |what: String, s: &str| -> anyhow::Result<()> {
        anyhow::ensure!(!s.trim().is_empty(), "{what} must not be empty");
        anyhow::ensure!(s.chars().count() <= 100, "{what} is longer than 100 characters");
        Ok(())
    };
    for (i, u) in dir.units.iter().enumerate() {
        text(format!("units[{i}].id"), &u.id)?;
        text(format!("units[{i}].name"), &u.name)?;
        anyhow::ensure!(
            (u.level == UnitLevel::City) == u.parent_id.is_none(),
            "units[{i}]: only the city has no parent_id"
        );
        anyhow::ensure!(
            u.latitude.is_some() == u.longitude.is_some(),
            "units[{i}]: latitude and longitude go together"
        );
        if let (Some(lat), Some(lon)) = (u.latitude, u.longitude) {
            anyhow::ensure!(
                (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon),
                "units[{i}]: coordinates out of range"
            );
        }
    }
    for (i, s) in dir.stations.iter().enumerate() {
        text(format!("stations[{i}].id"), &s.id)?;
        text(format!("stations[{i}].name"), &s.name)?;
        phone(format!("stations[{i}].phone"), s.phone.as_deref())?;
    }
    for (i, p) in dir.people.iter().enumerate() {
        text(format!("people[{i}].id"), &p.id)?;
        text(format!("people[{i}].name"), &p.name)?;
        phone(format!("people[{i}].phone"), p.phone.as_deref())?;
        if let Some(photo) = &p.photo_ref {
            anyhow::ensure!(
                photo.chars().count() <= 500 && !photo.chars().any(char::is_control),
                "people[{i}].photo_ref is longer than 500 characters or holds control characters"
            );
        }
        anyhow::ensure!(p.capacity >= 0, "people[{i}].capacity must not be negative");
        anyhow::ensure!(
            p.team_township_id.is_some() == p.team_role.is_some(),
            "people[{i}]: team_township_id and team_role go together"
        );
    }
    for (i, inst) in dir.institutions.iter().enumerate() {
        text(format!("institutions[{i}].id"), &inst.id)?;
        text(format!("institutions[{i}].name"), &inst.name)?;
        anyhow::ensure!(
            inst.capacity.is_none_or(|c| c >= 0),
            "institutions[{i}].capacity must not be negative"
        );
    }
    Ok(())
}

/// An optional phone number of the directory: digits with the usual separators (a
/// station's line may be an area code and a service number, `0635-12348`).
fn phone(field: String, raw: Option<&str>) -> anyhow::Result<()> {
    if let Some(raw) = raw {
        anyhow::ensure!(
            raw.chars().count() <= 32
                && raw.chars().any(|c| c.is_ascii_digit())
                && raw.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')')),
            "{field}: `{raw}` is not a phone number (digits, spaces and dashes, at most 32 characters)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_a_tree_with_counsel() {
        let csv = "city_id,city_name,county_id,county_name,township_id,township_name,village_id,village_name,counsel_id,counsel_name\n\
                   371500,聊城市,371502,东昌府区,371502001,古楼街道,371502001001,东关村,P1,张律师\n\
                   371500,聊城市,371502,东昌府区,371502001,古楼街道,371502001002,西关村,P1,张律师\n\
                   371500,聊城市,371502,东昌府区,371502002,柳园街道,371502002001,南街村,,\n";
        let dir = parse_csv(csv).unwrap();
        assert_eq!(dir.units.len(), 1 + 1 + 2 + 3);
        assert_eq!(dir.stations.len(), 2);
        assert_eq!(dir.people.len(), 1);
        assert_eq!(dir.people[0].villages, vec!["371502001001", "371502001002"]);
        check(&dir).unwrap();
    }

    #[test]
    fn bad_rows_name_the_line() {
        let csv = "city_id,city_name,county_id,county_name,township_id,township_name,village_id,village_name,counsel_id,counsel_name\n\
                   371500,聊城市,371502,东昌府区,371502001,古楼街道,371502001001,东关村,P1,\n";
        let err = format!("{:#}", parse_csv(csv).unwrap_err());
        assert!(err.contains("line 2"), "{err}");
    }
}
