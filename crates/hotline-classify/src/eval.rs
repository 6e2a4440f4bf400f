//! Measuring the classifier: top-k accuracy, per-label precision and recall, and a
//! cross-validation helper for tuning on the training split only.

use std::fmt::Write as _;

use hotline_domain::{Category, Subcategory};

use crate::classifier::Classifier;
use crate::corpus::{Example, fnv1a};
use crate::params::Params;
use crate::suggestion::Scored;

/// Precision and recall of one label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelReport<T> {
    pub value: T,
    /// Examples that truly have this label.
    pub support: usize,
    /// Examples whose top suggestion is this label.
    pub predicted: usize,
    /// Examples with this label suggested first.
    pub correct: usize,
}

impl<T> LabelReport<T> {
    /// correct / predicted (1 when nothing was predicted: no false positives).
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }

    /// correct / support (1 when there is nothing to find).
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.support)
    }
}

/// Figures for one label set (categories or subcategories).
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking<T> {
    /// Share of examples whose true label is suggested first.
    pub top1: f64,
    /// Share of examples whose true label is among the first two.
    pub top2: f64,
    /// Mean negative log probability of the true label (calibration; lower is better).
    pub log_loss: f64,
    pub labels: Vec<LabelReport<T>>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub examples: usize,
    pub categories: Ranking<Category>,
    pub subcategories: Ranking<Subcategory>,
}

/// Suggests every example's text and compares with its labels.
pub fn evaluate(classifier: &Classifier, examples: &[Example]) -> Evaluation {
    let mut cats = Tally::new(Category::ALL);
    let mut subs = Tally::new(Subcategory::ALL);
    for e in examples {
        let s = classifier.suggest(&e.text);
        cats.add(&s.categories, e.category);
        subs.add(&s.subcategories, e.subcategory);
    }
    Evaluation { examples: examples.len(), categories: cats.finish(), subcategories: subs.finish() }
}

/// K-fold cross-validation of `params` over `examples`: each fold is scored by a
/// model trained on the other folds, and the predictions are pooled. Folds are chosen
/// by a hash of the text, independent of the held-out selection. Use this on the
/// training split to choose parameters; never on the held-out split.
pub fn cross_validate(params: &Params, examples: &[Example], folds: usize) -> Evaluation {
    let folds = folds.max(2) as u64;
    let fold_of = |e: &Example| (fnv1a(e.text.as_bytes()) / 7) % folds;
    let mut cats = Tally::new(Category::ALL);
    let mut subs = Tally::new(Subcategory::ALL);
    for k in 0..folds {
        let train = examples.iter().filter(|e| fold_of(e) != k);
        let classifier = Classifier::from_examples(params.clone(), train);
        for e in examples.iter().filter(|e| fold_of(e) == k) {
            let s = classifier.suggest(&e.text);
            cats.add(&s.categories, e.category);
            subs.add(&s.subcategories, e.subcategory);
        }
    }
    Evaluation { examples: examples.len(), categories: cats.finish(), subcategories: subs.finish() }
}

impl Evaluation {
    /// Markdown tables of the figures, as used in docs/classification.md.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Examples: {}\n", self.examples);
        let _ = writeln!(out, "| ranking | top-1 | top-2 | log loss |\n|---|---|---|---|");
        for (name, top1, top2, ll) in [
            ("category", self.categories.top1, self.categories.top2, self.categories.log_loss),
            ("subcategory", self.subcategories.top1, self.subcategories.top2, self.subcategories.log_loss),
        ] {
            let _ = writeln!(out, "| {name} | {:.1}% | {:.1}% | {ll:.3} |", top1 * 100.0, top2 * 100.0);
        }
        write_labels(&mut out, "category", &self.categories.labels, |c| c.as_str());
        write_labels(&mut out, "subcategory", &self.subcategories.labels, |s| s.as_str());
        out
    }
}

fn write_labels<T: Copy>(
    out: &mut String,
    what: &str,
    labels: &[LabelReport<T>],
    name: impl Fn(T) -> &'static str,
) {
    let _ = writeln!(out, "\n| {what} | support | precision | recall |\n|---|---|---|---|");
    for l in labels {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1}% ({}/{}) | {:.1}% ({}/{}) |",
            name(l.value),
            l.support,
            l.precision() * 100.0,
            l.correct,
            l.predicted,
            l.recall() * 100.0,
            l.correct,
            l.support
        );
    }
}

/// Running counts for one label set.
struct Tally<T> {
    labels: Vec<LabelReport<T>>,
    n: usize,
    top1: usize,
    top2: usize,
    log_loss: f64,
}

impl<T: Copy + PartialEq> Tally<T> {
    fn new(all: &[T]) -> Self {
        let labels =
            all.iter().map(|&value| LabelReport { value, support: 0, predicted: 0, correct: 0 }).collect();
        Tally { labels, n: 0, top1: 0, top2: 0, log_loss: 0.0 }
    }

    fn add(&mut self, ranking: &[Scored<T>], truth: T) {
        self.n += 1;
        let position = ranking.iter().position(|s| s.value == truth);
        if position == Some(0) {
            self.top1 += 1;
        }
        if position.is_some_and(|p| p < 2) {
            self.top2 += 1;
        }
        let p = position.map_or(0.0, |i| ranking[i].score);
        self.log_loss -= p.max(1e-12).ln();
        let first = ranking.first().map(|s| s.value);
        for l in &mut self.labels {
            if l.value == truth {
                l.support += 1;
            }
            if Some(l.value) == first {
                l.predicted += 1;
                if l.value == truth {
                    l.correct += 1;
                }
            }
        }
    }

    fn finish(self) -> Ranking<T> {
        Ranking {
            top1: ratio(self.top1, self.n),
            top2: ratio(self.top2, self.n),
            log_loss: if self.n == 0 { 0.0 } else { self.log_loss / self.n as f64 },
            labels: self.labels,
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}
