//! "The words that drove the choice": from per-feature weights of evidence to a few
//! readable words of the agent's own text.
//!
//! Overlapping n-grams all carry evidence ("拖欠", "欠工", "工资", "欠工资"), and
//! showing all of them would be noise. We pick greedily by contribution and, when a
//! longer span contains an already picked one and is nearly as strong, prefer the
//! longer span: "欠工资" reads better than "工资" and says more. Lexicon cues take
//! part with their pooled weight, so "请不起律师" shows as one word.

use std::ops::Range;

use crate::features::Occurrence;
use crate::normalize::Normalized;

/// Contributions below this (in nats: a feature at least e times likelier in the
/// class than outside it) are not worth showing.
const MIN_CONTRIBUTION: f64 = 1.0;
/// A longer span replaces a contained one if it has at least this fraction of the
/// contained one's contribution.
const LONGER_SPAN_SHARE: f64 = 0.5;

struct Pick {
    span: Range<usize>,
    score: f64,
}

/// Up to `max_words` words of `original` that most support one class, strongest
/// first. `evidence` gives a feature's weight of evidence for that class (`None` if
/// the feature is unknown to the model).
pub(crate) fn cue_words(
    norm: &Normalized,
    original: &str,
    occurrences: &[Occurrence<'_>],
    evidence: impl Fn(&str) -> Option<f64>,
    max_words: usize,
) -> Vec<String> {
    let mut candidates: Vec<Pick> = occurrences
        .iter()
        .filter_map(|o| {
            let e = evidence(o.key)?;
            let score = e * f64::from(o.weight);
            (score >= MIN_CONTRIBUTION).then(|| Pick { span: o.span.clone(), score })
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.span.len().cmp(&a.span.len()))
            .then_with(|| a.span.start.cmp(&b.span.start))
    });

    let mut picked: Vec<Pick> = Vec::new();
    for cand in candidates {
        let overlapping: Vec<usize> =
            (0..picked.len()).filter(|&i| overlaps(&picked[i].span, &cand.span)).collect();
        if overlapping.is_empty() {
            picked.push(cand);
            continue;
        }
        let all_inside = overlapping.iter().all(|&i| contains(&cand.span, &picked[i].span));
        let strongest = overlapping.iter().map(|&i| picked[i].score).fold(0.0, f64::max);
        if all_inside && cand.score >= LONGER_SPAN_SHARE * strongest {
            // Replace the contained picks by the longer span, keeping their rank.
            let first = overlapping[0];
            for &i in overlapping.iter().skip(1).rev() {
                picked.remove(i);
            }
            picked[first] = Pick { span: cand.span, score: strongest };
        }
    }

    picked.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut words: Vec<String> = Vec::new();
    for p in picked {
        let word = norm.original(original, &p.span).trim();
        if !word.is_empty() && !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
        if words.len() == max_words {
            break;
        }
    }
    words
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn occ(key: &'static str, span: Range<usize>) -> Occurrence<'static> {
        Occurrence { key, weight: 1, span }
    }

    #[test]
    fn prefers_the_longer_span_and_drops_weak_overlaps() {
        let text = "欠工资不给";
        let norm = normalize(text);
        let occs = [occ("工资", 1..3), occ("欠工资", 0..3), occ("资不", 2..4), occ("给", 4..5)];
        let evidence = |k: &str| match k {
            "工资" => Some(3.0),
            "欠工资" => Some(2.0),
            "资不" => Some(1.2),
            "给" => Some(0.1),
            _ => None,
        };
        assert_eq!(cue_words(&norm, text, &occs, evidence, 5), ["欠工资"]);
    }

    #[test]
    fn keeps_disjoint_words_strongest_first() {
        let text = "离婚，孩子";
        let norm = normalize(text);
        let occs = [occ("离婚", 0..2), occ("孩子", 3..5)];
        let evidence = |k: &str| if k == "孩子" { Some(2.0) } else { Some(1.5) };
        assert_eq!(cue_words(&norm, text, &occs, evidence, 5), ["孩子", "离婚"]);
        assert_eq!(cue_words(&norm, text, &occs, evidence, 1), ["孩子"]);
    }
}
