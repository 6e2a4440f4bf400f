//! Category suggestion for 12348 hotline calls from the agent's summary text.
//!
//! As the agent types "老板欠了三个月工资不给，没钱请律师", [`Classifier::suggest`] ranks
//! the four categories (consultation, legal aid, mediation, legal education) and the
//! eleven subcategories with probabilities and the words that drove each choice
//! ("没钱请律师", "工资"). It is pure (no I/O), takes tens of microseconds per call and
//! keeps learning from the centre's confirmed classifications ([`Classifier::learn`]),
//! with exact snapshots ([`Classifier::to_json`]) or replay of stored examples to
//! survive restarts.
//!
//! Model: normalised text -> character uni- and bigrams plus pooled lexicon cues ->
//! binarised naive Bayes scored one-versus-rest, one head per label set,
//! temperature-calibrated softmax.
//! The crate ships a hand-written labelled corpus ([`corpus`]); the model is evaluated
//! on a hash-selected held-out fifth that it never trains on ([`eval`]). See
//! `docs/classification.md` for the design and the figures.

mod classifier;
pub mod corpus;
pub mod eval;
mod explain;
mod features;
mod lexicon;
mod model;
mod normalize;
mod params;
mod snapshot;
mod suggestion;

pub use classifier::{Classifier, EXPLAINED_PER_RANKING};
pub use corpus::Example;
pub use params::Params;
pub use snapshot::SnapshotError;
pub use suggestion::{Scored, Suggestion};
