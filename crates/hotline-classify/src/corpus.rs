//! The labelled call summaries shipped with the crate, and the fixed train/held-out
//! split used to evaluate the model honestly.

use std::fmt;

use hotline_domain::{Category, Subcategory};
use serde::{Deserialize, Serialize};

/// The shipped corpus, `category<TAB>subcategory<TAB>text` per line.
pub const SHIPPED_TSV: &str = include_str!("../corpus/calls.tsv");

/// One labelled call summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub category: Category,
    pub subcategory: Subcategory,
}

/// A line of a corpus file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corpus line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CorpusError {}

/// Parses a corpus in the shipped format. Blank lines and lines starting with `#`
/// are skipped.
pub fn parse(tsv: &str) -> Result<Vec<Example>, CorpusError> {
    let mut examples = Vec::new();
    for (i, line) in tsv.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| CorpusError { line: line_no, message };
        let mut fields = line.splitn(3, '\t');
        let (Some(cat), Some(sub), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(err("expected category<TAB>subcategory<TAB>text".into()));
        };
        let category = cat.parse().map_err(|e| err(format!("{e}")))?;
        let subcategory = sub.parse().map_err(|e| err(format!("{e}")))?;
        if text.trim().is_empty() {
            return Err(err("empty text".into()));
        }
        examples.push(Example { text: text.to_owned(), category, subcategory });
    }
    Ok(examples)
}

/// Every example of the shipped corpus.
pub fn shipped() -> Vec<Example> {
    // The corpus is compiled in and checked by a test, so a parse error is a bug in
    // this crate, not a runtime condition.
    parse(SHIPPED_TSV).expect("the shipped corpus parses")
}

/// Whether an example belongs to the held-out evaluation split: one in five, chosen
/// by a stable hash (FNV-1a, 64-bit) of the text. A hash rather than the line number
/// keeps every example on the same side when lines are added, removed or reordered,
/// so the held-out set can never silently leak into training.
pub fn is_held_out(text: &str) -> bool {
    fnv1a(text.as_bytes()).is_multiple_of(5)
}

/// The shipped corpus split into (train, held-out). The held-out part is never used
/// for training or tuning; only for the figures in docs/classification.md.
pub fn split() -> (Vec<Example>, Vec<Example>) {
    shipped().into_iter().partition(|e| !is_held_out(&e.text))
}

/// FNV-1a, 64-bit: tiny, stable across platforms and Rust releases (unlike
/// `std::hash`), which is what a reproducible split needs.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn shipped_corpus_is_large_varied_and_covers_every_label() {
        let all = shipped();
        assert!(all.len() >= 600, "{} examples", all.len());
        for c in Category::ALL {
            assert!(all.iter().any(|e| e.category == *c), "no {c}");
        }
        for s in Subcategory::ALL {
            assert!(all.iter().any(|e| e.subcategory == *s), "no {s}");
        }
        let texts: HashSet<&str> = all.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts.len(), all.len(), "duplicate texts");
        for e in &all {
            let n = e.text.chars().count();
            assert!((5..=80).contains(&n), "{n} chars: {}", e.text);
        }
    }

    #[test]
    fn split_is_about_one_in_five_and_disjoint() {
        let (train, held) = split();
        let total = train.len() + held.len();
        assert!(held.len() * 100 > total * 15 && held.len() * 100 < total * 25, "{}", held.len());
        let train_texts: HashSet<&str> = train.iter().map(|e| e.text.as_str()).collect();
        assert!(held.iter().all(|e| !train_texts.contains(e.text.as_str())));
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn parse_reports_bad_lines() {
        let err = parse("# header\nconsultation\tbogus\t文本").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse("consultation\tother").is_err());
        let ok = parse("legal_aid\tother\t想申请法律援助\n\n").unwrap();
        assert_eq!(ok[0].category, Category::LegalAid);
    }
}
