//! Naive Bayes over binarised features, scored one-versus-rest, with two heads
//! (category and subcategory) sharing one count table.
//!
//! Why naive Bayes: its state is a table of integer counts, so
//! - learning one confirmed call is adding a few hundred integers (microseconds, no
//!   retraining, no learning-rate schedule);
//! - the result does not depend on the order calls were learned in, so replaying the
//!   stored confirmed calls at start-up and loading a snapshot give *identical* models;
//! - a snapshot is exact (integers), so suggestions survive save/load bit for bit;
//! - each feature's contribution is a readable log-ratio, which is what the agent sees
//!   as "the words that drove the choice".
//!
//! The two heads are independent: the subject of a call (wages, land, marriage) is
//! largely independent of what the caller wants done about it, and an independent
//! subcategory head learns each topic from all four categories' examples.

use std::collections::HashMap;

use hotline_domain::{Category, Subcategory};

use crate::lexicon;

/// Number of category columns.
pub(crate) const CATEGORIES: usize = 4;
/// Number of subcategory columns.
pub(crate) const SUBCATEGORIES: usize = 11;
/// All columns: categories first, then subcategories.
pub(crate) const COLUMNS: usize = CATEGORIES + SUBCATEGORIES;

/// Per-feature counts, one per column.
pub(crate) type Row = [u32; COLUMNS];

/// Which of the two classification problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    Category,
    Subcategory,
}

impl Head {
    /// The columns of this head in the count table.
    pub fn columns(self) -> std::ops::Range<usize> {
        match self {
            Head::Category => 0..CATEGORIES,
            Head::Subcategory => CATEGORIES..COLUMNS,
        }
    }
}

/// Whether `head` scores feature `key`. The subcategory head ignores intent cues
/// ("法律援助", "调解", "讲座"): they say what the caller wants, not what the call is
/// about, and would otherwise pull every mediation call towards the topics that are
/// mediated most often (cross-validation: +3 points of subcategory accuracy).
pub(crate) fn uses(head: Head, key: &str) -> bool {
    head == Head::Category || !lexicon::is_intent_cue(key)
}

/// The column of a category.
pub(crate) fn category_column(c: Category) -> usize {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// The column of a subcategory.
pub(crate) fn subcategory_column(s: Subcategory) -> usize {
    CATEGORIES + Subcategory::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// The stable name of every column, in column order (used by snapshots, so that a
/// snapshot survives a reordering of the domain enums).
pub(crate) fn column_names() -> Vec<&'static str> {
    Category::ALL.iter().map(|c| c.as_str()).chain(Subcategory::ALL.iter().map(|s| s.as_str())).collect()
}

/// The sufficient statistics of the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NaiveBayes {
    /// Feature -> weighted number of texts of each class that contain it.
    pub features: HashMap<Box<str>, Row>,
    /// Number of texts learned per class.
    pub docs: [u64; COLUMNS],
    /// Sum over features of the counts per class (the multinomial denominator).
    pub totals: [u64; COLUMNS],
}

impl NaiveBayes {
    /// Adds one labelled text, given its distinct features.
    pub fn learn(&mut self, features: &[(&str, u32)], category: Category, subcategory: Subcategory) {
        let columns = [category_column(category), subcategory_column(subcategory)];
        for &(key, weight) in features {
            let row = match self.features.get_mut(key) {
                Some(row) => row,
                None => self.features.entry(key.into()).or_insert([0; COLUMNS]),
            };
            for col in columns {
                row[col] = row[col].saturating_add(weight);
                self.totals[col] += u64::from(weight);
            }
        }
        for col in columns {
            self.docs[col] += 1;
        }
    }

    /// Number of texts learned.
    pub fn examples(&self) -> u64 {
        self.docs[Head::Category.columns()].iter().sum()
    }

    /// Scores every class of `head` for a text with these distinct features (sorted
    /// by key, as [`crate::features::distinct`] returns them), keeping each feature's
    /// weight of evidence so the explanation costs no further arithmetic.
    ///
    /// Score = log prior + sum over features of weight x evidence (divided by a
    /// temperature, see [`Assessment::probabilities`]), where evidence is
    /// log P(feature | class) - log P(feature | not class) with Lidstone smoothing.
    /// This is the "one-versus-all-but-one" naive Bayes of Rennie et al. (2003): less
    /// biased towards large classes than the plain multinomial likelihood, better in
    /// cross-validation here, and it makes the explanation exact — the cue words shown
    /// are the largest terms of the score. Features never seen in training, or not
    /// used by the head, add nothing.
    pub fn assess<'m>(&'m self, head: Head, features: &[(&str, u32)], alpha: f64) -> Assessment<'m> {
        let cols = head.columns();
        let k = cols.len();
        let n: u64 = self.docs[cols.clone()].iter().sum();
        let log_prior: Vec<f64> =
            cols.clone().map(|c| ((self.docs[c] as f64 + 1.0) / (n as f64 + k as f64)).ln()).collect();
        let mut total_evidence = vec![0.0; k];

        // Denominators of P(f | class) and P(f | not class), per class.
        let smoothed_v = alpha * self.features.len() as f64;
        let head_total: u64 = self.totals[cols.clone()].iter().sum();
        let denominators: Vec<(f64, f64)> = cols
            .clone()
            .map(|c| {
                let inside = self.totals[c] as f64;
                ((inside + smoothed_v).ln(), (head_total as f64 - inside + smoothed_v).ln())
            })
            .collect();
        let log_alpha = alpha.ln();
        let ln_count = |count: u64| if count == 0 { log_alpha } else { (count as f64 + alpha).ln() };

        let mut evidence = vec![f64::NAN; features.len() * k];
        let mut rows = Vec::with_capacity(features.len());
        for (f, &(key, weight)) in features.iter().enumerate() {
            let row = if uses(head, key) { self.features.get(key) } else { None };
            rows.push(row);
            let Some(row) = row else { continue };
            let head_count: u64 = row[cols.clone()].iter().map(|&c| u64::from(c)).sum();
            for (i, col) in cols.clone().enumerate() {
                let inside = u64::from(row[col]);
                let (d_in, d_out) = denominators[i];
                let woe = (ln_count(inside) - d_in) - (ln_count(head_count - inside) - d_out);
                evidence[f * k + i] = woe;
                total_evidence[i] += f64::from(weight) * woe;
            }
        }
        Assessment { log_prior, total_evidence, evidence, rows, first_column: cols.start, classes: k }
    }

    /// Weight of evidence of one feature for class `col` (see [`NaiveBayes::assess`]);
    /// `None` for a feature the model has never seen or the head does not use.
    #[cfg(test)]
    pub fn evidence(&self, head: Head, col: usize, key: &str, alpha: f64) -> Option<f64> {
        self.assess(head, &[(key, 1)], alpha).evidence(0, col)
    }

    /// Recomputes the per-class totals from the rows (after loading a snapshot).
    pub fn recompute_totals(&mut self) {
        self.totals = [0; COLUMNS];
        for row in self.features.values() {
            for (total, &count) in self.totals.iter_mut().zip(row) {
                *total += u64::from(count);
            }
        }
    }
}

/// The scores of one head for one text, with the per-feature evidence behind them.
pub(crate) struct Assessment<'m> {
    /// Log prior probability per class (Laplace-smoothed label frequencies).
    pub log_prior: Vec<f64>,
    /// Sum of weight x evidence over the text's features, per class.
    pub total_evidence: Vec<f64>,
    /// Weight of evidence, feature-major (`feature * classes + class`); NaN where the
    /// feature is unknown or unused.
    evidence: Vec<f64>,
    rows: Vec<Option<&'m Row>>,
    first_column: usize,
    classes: usize,
}

impl Assessment<'_> {
    /// Probabilities per class: softmax of `log prior + total evidence / temperature`.
    ///
    /// Naive Bayes counts overlapping n-grams and pooled cues as independent evidence
    /// and is overconfident; the temperature (> 1) undoes that over-counting. It
    /// divides the evidence only, not the prior: with no evidence (empty text) the
    /// suggestion is exactly the centre's label frequencies.
    pub fn probabilities(&self, temperature: f64) -> Vec<f64> {
        let t = if temperature.is_finite() && temperature > 0.0 { temperature } else { 1.0 };
        let logits: Vec<f64> =
            self.log_prior.iter().zip(&self.total_evidence).map(|(p, e)| p + e / t).collect();
        softmax(&logits)
    }

    /// Weight of evidence of the `feature`-th feature for column `col`.
    pub fn evidence(&self, feature: usize, col: usize) -> Option<f64> {
        let class = col.checked_sub(self.first_column).filter(|c| *c < self.classes)?;
        let e = *self.evidence.get(feature * self.classes + class)?;
        (!e.is_nan()).then_some(e)
    }

    /// How many learned texts of column `col` contained the `feature`-th feature
    /// (weighted, for cues).
    pub fn support(&self, feature: usize, col: usize) -> u32 {
        self.rows.get(feature).copied().flatten().map_or(0, |row| row[col])
    }
}

/// Softmax: probabilities that sum to one.
fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_cover_every_label_once() {
        let mut seen = [false; COLUMNS];
        for c in Category::ALL {
            seen[category_column(*c)] = true;
        }
        for s in Subcategory::ALL {
            seen[subcategory_column(*s)] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(column_names().len(), COLUMNS);
    }

    #[test]
    fn learning_shifts_the_likelihood_and_evidence() {
        let mut nb = NaiveBayes::default();
        nb.learn(&[("讲座", 1)], Category::LegalEducation, Subcategory::Other);
        nb.learn(&[("工资", 1)], Category::Consultation, Subcategory::LabourWages);
        let p = nb.assess(Head::Category, &[("讲座", 1)], 0.1).probabilities(1.0);
        let edu = category_column(Category::LegalEducation);
        assert!(p[edu] > p[category_column(Category::Consultation)]);
        assert!(nb.evidence(Head::Category, edu, "讲座", 0.1).unwrap() > 0.0);
        assert!(nb.evidence(Head::Category, edu, "没见过", 0.1).is_none());
        assert_eq!(nb.examples(), 2);
    }

    #[test]
    fn scores_are_prior_plus_summed_evidence() {
        let mut nb = NaiveBayes::default();
        nb.learn(&[("讲座", 1), ("村里", 1)], Category::LegalEducation, Subcategory::Other);
        nb.learn(&[("工资", 1), ("村里", 1)], Category::Consultation, Subcategory::LabourWages);
        nb.learn(&[("工资", 1)], Category::LegalAid, Subcategory::LabourWages);
        let feats = [("工资", 2), ("没见过", 1), ("讲座", 1)];
        let empty = nb.assess(Head::Category, &[], 0.5);
        let a = nb.assess(Head::Category, &feats, 0.5);
        assert_eq!(a.log_prior, empty.log_prior);
        for (i, col) in Head::Category.columns().enumerate() {
            let sum = nb.evidence(Head::Category, col, "讲座", 0.5).unwrap()
                + 2.0 * nb.evidence(Head::Category, col, "工资", 0.5).unwrap();
            assert!((a.total_evidence[i] - sum).abs() < 1e-9);
            assert_eq!(empty.total_evidence[i], 0.0);
        }
        // With no evidence the probabilities are the priors, whatever the temperature.
        let prior = empty.probabilities(10.0);
        assert!((prior[category_column(Category::Consultation)] - 2.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn the_subcategory_head_ignores_intent_cues() {
        let mut nb = NaiveBayes::default();
        nb.learn(&[("#i_mediate_request", 5)], Category::Mediation, Subcategory::NeighbourDispute);
        let col = subcategory_column(Subcategory::NeighbourDispute);
        assert!(nb.evidence(Head::Subcategory, col, "#i_mediate_request", 0.3).is_none());
        let cat = category_column(Category::Mediation);
        assert!(nb.evidence(Head::Category, cat, "#i_mediate_request", 0.3).is_some());
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let p = softmax(&[-1000.0, -1001.0, -1003.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[0] > p[1] && p[1] > p[2]);
    }
}
