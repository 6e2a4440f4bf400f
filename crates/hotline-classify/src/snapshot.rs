//! Saving and loading a trained classifier.
//!
//! Two ways to survive a restart, both supported:
//! - **replay**: the server stores each confirmed (text, category, subcategory) and at
//!   start-up calls [`Classifier::shipped`] then [`Classifier::learn`] for each. Always
//!   valid, even after the feature extraction changes in a new release;
//! - **snapshot**: [`Classifier::to_json`] / [`Classifier::from_json`] (or serde on
//!   [`Classifier`] directly). Instant start-up; the snapshot carries its own
//!   parameters so it scores exactly as before.
//!
//! A snapshot is the integer count table keyed by feature, with the labels written by
//! their stable names (so a reordering of the domain enums cannot shuffle counts),
//! features sorted (so the same model always gives the same bytes).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::classifier::Classifier;
use crate::model::{self, COLUMNS, Head, NaiveBayes, Row};
use crate::params::Params;

/// Version of the snapshot layout.
const FORMAT: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    params: &'a Params,
    labels: Vec<&'static str>,
    docs: &'a [u64],
    features: BTreeMap<&'a str, &'a [u32]>,
}

#[derive(Deserialize)]
struct SnapshotOwned {
    format: u32,
    params: Params,
    labels: Vec<String>,
    docs: Vec<u64>,
    features: HashMap<String, Vec<u32>>,
}

/// A snapshot that cannot be loaded.
#[derive(Debug)]
pub enum SnapshotError {
    /// Not valid JSON for a snapshot.
    Json(serde_json::Error),
    /// Valid JSON, inconsistent content.
    Invalid(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Json(e) => write!(f, "classifier snapshot: {e}"),
            SnapshotError::Invalid(m) => write!(f, "classifier snapshot: {m}"),
        }
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SnapshotError::Json(e) => Some(e),
            SnapshotError::Invalid(_) => None,
        }
    }
}

impl Classifier {
    /// The model as JSON (deterministic for a given model).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a snapshot always serialises")
    }

    /// Loads a model saved by [`Classifier::to_json`].
    pub fn from_json(json: &str) -> Result<Self, SnapshotError> {
        let snapshot: SnapshotOwned = serde_json::from_str(json).map_err(SnapshotError::Json)?;
        restore(snapshot).map_err(SnapshotError::Invalid)
    }
}

impl Serialize for Classifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            format: FORMAT,
            params: &self.params,
            labels: model::column_names(),
            docs: &self.model.docs,
            features: self.model.features.iter().map(|(k, row)| (&**k, &row[..])).collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Classifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let snapshot = SnapshotOwned::deserialize(d)?;
        restore(snapshot).map_err(serde::de::Error::custom)
    }
}

fn restore(s: SnapshotOwned) -> Result<Classifier, String> {
    if s.format != FORMAT {
        return Err(format!("format {} is not supported (expected {FORMAT})", s.format));
    }
    let names = model::column_names();
    // Where each stored column goes in the current layout.
    let mut target = Vec::with_capacity(s.labels.len());
    for label in &s.labels {
        let col = names.iter().position(|n| n == label).ok_or_else(|| format!("unknown label {label:?}"))?;
        if target.contains(&col) {
            return Err(format!("label {label:?} appears twice"));
        }
        target.push(col);
    }
    let remap = |values: &[u64], what: &str| -> Result<[u64; COLUMNS], String> {
        if values.len() != target.len() {
            return Err(format!("{what}: {} values for {} labels", values.len(), target.len()));
        }
        let mut out = [0; COLUMNS];
        for (&col, &v) in target.iter().zip(values) {
            out[col] = v;
        }
        Ok(out)
    };

    let mut nb = NaiveBayes { docs: remap(&s.docs, "docs")?, ..NaiveBayes::default() };
    nb.features.reserve(s.features.len());
    for (key, counts) in s.features {
        let wide: Vec<u64> = counts.iter().map(|&c| u64::from(c)).collect();
        let mapped = remap(&wide, &format!("feature {key:?}"))?;
        let mut row: Row = [0; COLUMNS];
        for (r, m) in row.iter_mut().zip(mapped) {
            *r = u32::try_from(m).unwrap_or(u32::MAX);
        }
        nb.features.insert(key.into_boxed_str(), row);
    }
    nb.recompute_totals();
    let per_head = |h: Head| nb.docs[h.columns()].iter().sum::<u64>();
    if per_head(Head::Category) != per_head(Head::Subcategory) {
        return Err("category and subcategory example counts differ".into());
    }
    Ok(Classifier { params: s.params, model: nb })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_domain::{Category, Subcategory};

    fn small() -> Classifier {
        let mut c = Classifier::new();
        c.learn("老板欠工资不给", Category::Consultation, Subcategory::LabourWages);
        c.learn("请调解员来村里", Category::Mediation, Subcategory::NeighbourDispute);
        c
    }

    #[test]
    fn round_trips_exactly_and_deterministically() {
        let c = small();
        let json = c.to_json();
        let back = Classifier::from_json(&json).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.to_json(), json);
    }

    #[test]
    fn survives_a_reordering_of_labels() {
        let c = small();
        let mut value: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        // Reverse the label order and every array with it.
        let reverse = |v: &mut serde_json::Value| v.as_array_mut().unwrap().reverse();
        reverse(&mut value["labels"]);
        reverse(&mut value["docs"]);
        for row in value["features"].as_object_mut().unwrap().values_mut() {
            reverse(row);
        }
        let back = Classifier::from_json(&value.to_string()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn rejects_inconsistent_snapshots() {
        let json = small().to_json();
        assert!(matches!(Classifier::from_json("{}"), Err(SnapshotError::Json(_))));
        let bad = json.replacen("\"format\":1", "\"format\":9", 1);
        assert!(matches!(Classifier::from_json(&bad), Err(SnapshotError::Invalid(_))));
        let bad = json.replacen("\"consultation\"", "\"bogus\"", 1);
        assert!(matches!(Classifier::from_json(&bad), Err(SnapshotError::Invalid(_))));
    }
}
