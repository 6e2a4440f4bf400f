//! The classifier: learn confirmed calls, suggest labels for a summary being typed.

use hotline_domain::{Category, Subcategory};

use crate::corpus::{self, Example};
use crate::explain;
use crate::features::{self, Occurrence};
use crate::model::{Head, NaiveBayes};
use crate::normalize::{Normalized, normalize};
use crate::params::Params;
use crate::suggestion::{Scored, Suggestion};

/// How many leading entries of each ranking get their own cue words.
pub const EXPLAINED_PER_RANKING: usize = 3;
/// Cue words per explained label.
const WORDS_PER_LABEL: usize = 5;
/// Texts of a class an n-gram must have appeared in before it is shown as a cue.
const MIN_SUPPORT_TO_SHOW: u32 = 3;
/// Cue words on the suggestion as a whole.
const WORDS_PER_SUGGESTION: usize = 6;

/// Suggests a call's category and subcategory from the agent's summary text.
///
/// The state is a table of integer counts (naive Bayes; see docs/classification.md), so:
/// - [`Classifier::learn`] is incremental and cheap — call it for every confirmed
///   classification;
/// - learning is order-independent: replaying stored examples at start-up
///   ([`Classifier::shipped`] then `learn` each) and loading a snapshot
///   ([`Classifier::from_json`]) give the same model;
/// - a snapshot reproduces suggestions exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    pub(crate) params: Params,
    pub(crate) model: NaiveBayes,
}

impl Default for Classifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Classifier {
    /// An empty classifier with the default parameters. It suggests from uniform
    /// priors until it learns something.
    pub fn new() -> Self {
        Self::with_params(Params::default())
    }

    /// An empty classifier with explicit parameters (for tuning and experiments).
    pub fn with_params(params: Params) -> Self {
        Classifier { params, model: NaiveBayes::default() }
    }

    /// Trained on the whole shipped corpus: the model for production. Takes about
    /// 20 ms; build it once and clone or share it.
    pub fn shipped() -> Self {
        Self::from_examples(Params::default(), &corpus::shipped())
    }

    /// Trained on the training split only, for evaluation on the held-out split.
    pub fn train_split() -> Self {
        Self::from_examples(Params::default(), &corpus::split().0)
    }

    /// Trained on `examples` with `params`.
    pub fn from_examples<'a>(params: Params, examples: impl IntoIterator<Item = &'a Example>) -> Self {
        let mut classifier = Self::with_params(params);
        for e in examples {
            classifier.learn(&e.text, e.category, e.subcategory);
        }
        classifier
    }

    /// Learns one confirmed classification. Incremental: later suggestions reflect
    /// it at once. Text with no letters still updates the label priors.
    pub fn learn(&mut self, text: &str, category: Category, subcategory: Subcategory) {
        let norm = normalize(text);
        let occurrences = features::occurrences(&norm, &self.params);
        let distinct = features::distinct(&occurrences);
        self.model.learn(&distinct, category, subcategory);
    }

    /// Ranks every category and subcategory for `text`, the leaders explained by their
    /// cue words. Never fails: empty or punctuation-only text gets the prior (the
    /// centre's label frequencies).
    pub fn suggest(&self, text: &str) -> Suggestion {
        self.ranked(text, EXPLAINED_PER_RANKING)
    }

    /// The same rankings as [`Classifier::suggest`], without cue words: for recording
    /// what the core proposed, where nobody reads the explanation (finding the cue
    /// words costs about as much as the ranking itself).
    pub fn rank_labels(&self, text: &str) -> Suggestion {
        self.ranked(text, 0)
    }

    fn ranked(&self, text: &str, explained: usize) -> Suggestion {
        let norm = normalize(text);
        let occurrences = features::occurrences(&norm, &self.params);
        let distinct = features::distinct(&occurrences);
        let ctx = Context { classifier: self, text, norm: &norm, occurrences: &occurrences, explained };

        let categories = ctx.rank(Head::Category, &distinct, Category::ALL, self.params.category_temperature);
        let subcategories =
            ctx.rank(Head::Subcategory, &distinct, Subcategory::ALL, self.params.subcategory_temperature);

        let mut cue_words: Vec<String> = Vec::new();
        let leaders = categories.first().map(|s| &s.cue_words).into_iter();
        for word in leaders.chain(subcategories.first().map(|s| &s.cue_words)).flatten() {
            if cue_words.len() < WORDS_PER_SUGGESTION && !cue_words.contains(word) {
                cue_words.push(word.clone());
            }
        }
        Suggestion { categories, subcategories, cue_words }
    }

    /// Number of calls learned (shipped corpus included).
    pub fn examples_learned(&self) -> u64 {
        self.model.examples()
    }

    /// Number of distinct features (n-grams and cues) the model has seen.
    pub fn vocabulary_size(&self) -> usize {
        self.model.features.len()
    }

    /// The parameters in use.
    pub fn params(&self) -> &Params {
        &self.params
    }
}

/// One text being scored.
struct Context<'a> {
    classifier: &'a Classifier,
    text: &'a str,
    norm: &'a Normalized,
    occurrences: &'a [Occurrence<'a>],
    /// How many leaders of each ranking get their cue words.
    explained: usize,
}

impl Context<'_> {
    /// Probabilities for the labels of `head` (listed in column order), sorted
    /// descending, the leaders explained.
    fn rank<T: Copy>(
        &self,
        head: Head,
        distinct: &[(&str, u32)],
        labels: &[T],
        temperature: f64,
    ) -> Vec<Scored<T>> {
        let model = &self.classifier.model;
        let alpha = self.classifier.params.alpha(head);
        let assessment = model.assess(head, distinct, alpha);
        let probabilities = assessment.probabilities(temperature);
        let mut order: Vec<usize> = (0..labels.len()).collect();
        // Stable sort: ties keep the domain's declaration order.
        order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
        order
            .into_iter()
            .enumerate()
            .map(|(rank, i)| {
                let col = head.columns().start + i;
                let cue_words = if rank < self.explained {
                    let evidence = |key: &str| {
                        let f = distinct.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
                        // An n-gram seen in only one or two texts of the class has
                        // inflated evidence and is usually a fragment across two
                        // words ("了三"); it still counts in the score, but is not
                        // shown. Lexicon cues pool many texts and are exempt.
                        let reliable =
                            key.starts_with('#') || assessment.support(f, col) >= MIN_SUPPORT_TO_SHOW;
                        assessment.evidence(f, col).filter(|_| reliable)
                    };
                    explain::cue_words(self.norm, self.text, self.occurrences, evidence, WORDS_PER_LABEL)
                } else {
                    Vec::new()
                };
                Scored { value: labels[i], score: probabilities[i], cue_words }
            })
            .collect()
    }
}
