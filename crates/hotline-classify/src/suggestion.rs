//! What the agent's screen gets back: every category and subcategory, ranked, with a
//! probability and the words that supported it.

use hotline_domain::{Category, Subcategory};
use serde::{Deserialize, Serialize};

/// A label with its probability and the words of the text that most support it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored<T> {
    pub value: T,
    /// Probability in [0, 1]; the scores of one ranking sum to 1.
    pub score: f64,
    /// Words of the agent's text supporting this label, strongest first. Filled for
    /// the first [`crate::EXPLAINED_PER_RANKING`] entries of each ranking only: the
    /// screen shows the leaders, and explaining all fifteen labels would triple the
    /// cost of a suggestion.
    pub cue_words: Vec<String>,
}

/// Ranked suggestions for one summary text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// All four categories, most probable first.
    pub categories: Vec<Scored<Category>>,
    /// All eleven subcategories, most probable first.
    pub subcategories: Vec<Scored<Subcategory>>,
    /// The words that drove the leading category and subcategory (the category's
    /// first), without duplicates.
    pub cue_words: Vec<String>,
}

impl Suggestion {
    /// The most probable category.
    pub fn category(&self) -> Category {
        self.categories.first().map_or(Category::Consultation, |s| s.value)
    }

    /// The most probable subcategory.
    pub fn subcategory(&self) -> Subcategory {
        self.subcategories.first().map_or(Subcategory::Other, |s| s.value)
    }
}
