//! The model's knobs. They travel inside a snapshot so a saved model scores exactly as
//! it did when it was saved, whatever the defaults of a later release.

use serde::{Deserialize, Serialize};

use crate::model::Head;

/// Feature and scoring parameters of a [`crate::Classifier`].
///
/// The defaults were chosen by 5-fold cross-validation on the *training* split only
/// (`cargo run --release -p hotline-classify --example cross_validate`); the held-out
/// split is used for nothing but the final figures. Bigrams beat trigrams (on a few
/// hundred examples trigrams are mostly seen once and add noise), pooled cues earn a
/// weight of 5, the category head wants heavier smoothing (its evidence is a few
/// frequent intent words) than the subcategory head (rarer topical words), and the
/// temperatures minimise cross-validated log loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Longest character n-gram used as a feature (1 = characters only).
    pub max_ngram: usize,
    /// Counts a lexicon cue adds per text (0 disables the lexicon). Cues pool many
    /// surface forms, so they deserve more weight than any single n-gram.
    pub cue_weight: u32,
    /// Additive (Lidstone) smoothing of feature counts for the category head. Larger
    /// values trust frequent, shared evidence over rare n-grams.
    #[serde(with = "exact_f64")]
    pub category_alpha: f64,
    /// The same for the subcategory head, where rare topical n-grams matter more.
    #[serde(with = "exact_f64")]
    pub subcategory_alpha: f64,
    /// Divides the summed evidence for categories before the softmax. Naive Bayes
    /// counts overlapping n-grams as independent evidence and is overconfident; a
    /// temperature > 1 calibrates it. The prior is not divided, so empty text gets
    /// the true label frequencies.
    #[serde(with = "exact_f64")]
    pub category_temperature: f64,
    /// The same for subcategories.
    #[serde(with = "exact_f64")]
    pub subcategory_temperature: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_ngram: 2,
            cue_weight: 5,
            category_alpha: 1.0,
            subcategory_alpha: 0.3,
            category_temperature: 10.0,
            subcategory_temperature: 8.0,
        }
    }
}

impl Params {
    /// The smoothing of one head.
    pub(crate) fn alpha(&self, head: Head) -> f64 {
        match head {
            Head::Category => self.category_alpha,
            Head::Subcategory => self.subcategory_alpha,
        }
    }
}

/// Floats are stored as decimal strings: Rust's `Display`/`parse` round-trip is
/// exact, while serde_json's default float parser is only best-effort, and a snapshot
/// must reproduce suggestions bit for bit.
mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly() {
        let p = Params { category_alpha: 0.1 + 0.2, category_temperature: 1.0 / 3.0, ..Params::default() };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Params>(&json).unwrap(), p);
    }
}
