//! Feature extraction: character n-grams inside each segment plus lexicon cues.
//!
//! Chinese has no spaces and a word segmenter (jieba and friends) would bring a large
//! dictionary for little gain on 5-80 character summaries: overlapping character
//! n-grams (uni- and bigrams by default, see [`Params::max_ngram`]) cover most two- and
//! three-character words, are robust to typos and dialect spellings, and need no
//! dictionary updates when callers invent new phrasing.

use std::ops::Range;

use crate::lexicon;
use crate::normalize::Normalized;
use crate::params::Params;

/// One feature occurrence in a text.
#[derive(Debug, Clone)]
pub(crate) struct Occurrence<'a> {
    /// The feature key: an n-gram (a slice of the normalised text) or a cue key `#…`.
    pub key: &'a str,
    /// How many counts the feature adds when learned, and how many times its
    /// log-likelihood is added when scored.
    pub weight: u32,
    /// The characters (indices into the normalised text) that produced it.
    pub span: Range<usize>,
}

/// Every feature occurrence of `norm`, in text order; n-grams before cues at the same
/// position. The same key can occur several times (used for explanations).
pub(crate) fn occurrences<'a>(norm: &'a Normalized, params: &Params) -> Vec<Occurrence<'a>> {
    let max_n = params.max_ngram.max(1);
    let max_cue = lexicon::max_pattern_chars();
    let mut out = Vec::with_capacity(norm.text.len());
    for segment in &norm.segments {
        for start in segment.clone() {
            let longest = max_n.max(max_cue).min(segment.end - start);
            for len in 1..=longest {
                let span = start..start + len;
                let form = norm.slice(&span);
                if len <= max_n {
                    out.push(Occurrence { key: form, weight: 1, span: span.clone() });
                }
                if len <= max_cue && params.cue_weight > 0 {
                    for key in lexicon::groups_of(form) {
                        out.push(Occurrence { key, weight: params.cue_weight, span: span.clone() });
                    }
                }
            }
        }
    }
    out
}

/// The distinct features of a text with their weights: each feature counts once per
/// text however often it occurs ("binarised" naive Bayes, which works better than raw
/// counts on short texts because a repeated character is not repeated evidence).
pub(crate) fn distinct<'a>(occurrences: &[Occurrence<'a>]) -> Vec<(&'a str, u32)> {
    let mut keys: Vec<(&str, u32)> = occurrences.iter().map(|o| (o.key, o.weight)).collect();
    keys.sort_unstable();
    keys.dedup_by(|a, b| a.0 == b.0);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    #[test]
    fn ngrams_stay_inside_segments_and_cues_are_added() {
        let params = Params { max_ngram: 2, cue_weight: 3, ..Params::default() };
        let norm = normalize("没钱，请不起律师");
        let occ = occurrences(&norm, &params);
        let keys: Vec<&str> = occ.iter().map(|o| o.key).collect();
        assert!(keys.contains(&"没钱"));
        assert!(keys.contains(&"律师"));
        assert!(!keys.contains(&"钱请"), "crossed the comma: {keys:?}");
        let cue = occ.iter().find(|o| o.key == "#i_cannot_afford").unwrap();
        assert_eq!(cue.weight, 3);
        let feats = distinct(&occ);
        assert_eq!(feats.iter().filter(|(k, _)| *k == "#i_cannot_afford").count(), 1);
    }

    #[test]
    fn no_text_no_features() {
        let norm = normalize("！？");
        assert!(occurrences(&norm, &Params::default()).is_empty());
    }
}
