//! Learning from confirmed classifications, and surviving a restart.

use hotline_classify::{Classifier, Example, Suggestion, corpus};
use hotline_domain::{Category, Subcategory};

/// The centre starts routing a new kind of request: psychological counselling for
/// families in crisis ("心理疏导"), handled by the mediation committee. The shipped
/// corpus has never seen the phrase.
const NOVEL: [&str; 4] =
    ["需要心理疏导", "来电人请求安排心理疏导", "孩子需要心理疏导服务", "能不能给俺家做个心理疏导"];
const PROBE: &str = "想预约一次心理疏导";

#[test]
fn learning_a_novel_phrase_changes_later_suggestions() {
    let mut classifier = Classifier::shipped();
    let before = classifier.suggest(PROBE);
    assert_ne!(before.category(), Category::Mediation, "precondition: {before:?}");
    assert_ne!(before.subcategory(), Subcategory::MarriageFamily, "precondition: {before:?}");

    let n = classifier.examples_learned();
    for text in NOVEL {
        classifier.learn(text, Category::Mediation, Subcategory::MarriageFamily);
    }
    assert_eq!(classifier.examples_learned(), n + NOVEL.len() as u64);

    let after = classifier.suggest(PROBE);
    assert_eq!(after.category(), Category::Mediation, "{after:?}");
    assert_eq!(after.subcategory(), Subcategory::MarriageFamily, "{after:?}");
    assert!(
        after.cue_words.iter().any(|w| w.contains("疏导") || w.contains("心理")),
        "the learned phrase should be shown as a cue: {:?}",
        after.cue_words
    );
    // Unrelated calls keep their suggestion.
    let wages = "老板欠了三个月工资不给";
    assert_eq!(classifier.suggest(wages).subcategory(), Subcategory::LabourWages);
}

#[test]
fn a_snapshot_reproduces_suggestions_exactly() {
    let mut classifier = Classifier::shipped();
    for text in NOVEL {
        classifier.learn(text, Category::Mediation, Subcategory::MarriageFamily);
    }
    let json = classifier.to_json();
    let loaded = Classifier::from_json(&json).expect("snapshot loads");
    assert_eq!(loaded, classifier);
    for e in corpus::shipped().iter().take(300) {
        assert_eq!(loaded.suggest(&e.text), classifier.suggest(&e.text), "{}", e.text);
    }
    assert_eq!(loaded.suggest(PROBE), classifier.suggest(PROBE));
    // Serde on the type itself gives the same snapshot.
    assert_eq!(serde_json::to_string(&classifier).unwrap(), json);
    let via_serde: Classifier = serde_json::from_str(&json).unwrap();
    assert_eq!(via_serde, classifier);
}

#[test]
fn replaying_stored_examples_equals_the_snapshot_in_any_order() {
    let confirmed: Vec<Example> = NOVEL
        .iter()
        .map(|t| Example {
            text: (*t).to_owned(),
            category: Category::Mediation,
            subcategory: Subcategory::MarriageFamily,
        })
        .collect();

    // Start-up path 1: shipped model, then replay the stored confirmations.
    let mut replayed = Classifier::shipped();
    for e in &confirmed {
        replayed.learn(&e.text, e.category, e.subcategory);
    }
    // Start-up path 2: load yesterday's snapshot.
    let snapshot = Classifier::from_json(&replayed.to_json()).unwrap();
    // Order does not matter: confirmations first, corpus reversed.
    let mut everything: Vec<Example> = confirmed.clone();
    everything.extend(corpus::shipped().into_iter().rev());
    let reordered = Classifier::from_examples(Default::default(), &everything);

    assert_eq!(snapshot, replayed);
    assert_eq!(reordered, replayed);
    assert_eq!(reordered.suggest(PROBE), replayed.suggest(PROBE));
}

fn assert_valid(s: &Suggestion) {
    assert_eq!(s.categories.len(), Category::ALL.len());
    assert_eq!(s.subcategories.len(), Subcategory::ALL.len());
    for scores in [
        s.categories.iter().map(|x| x.score).collect::<Vec<_>>(),
        s.subcategories.iter().map(|x| x.score).collect::<Vec<_>>(),
    ] {
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{scores:?}");
        assert!(scores.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "not sorted: {scores:?}");
    }
}

#[test]
fn empty_and_odd_text_get_a_valid_prior_suggestion() {
    let classifier = Classifier::shipped();
    for text in ["", "   ", "，。！？", "……", "\u{3000}\u{3000}"] {
        let s = classifier.suggest(text);
        assert_valid(&s);
        // The prior: consultation and labour are the commonest calls.
        assert_eq!(s.category(), Category::Consultation, "{text:?}");
        assert!(s.cue_words.is_empty());
    }
    let long = "老板欠工资".repeat(400);
    for text in ["😀😀", "abc ＡＢＣ 123", "\u{0}\u{7}\t\n", "ㄅㄆㄇ", long.as_str(), "欠"] {
        assert_valid(&classifier.suggest(text));
    }
    // An empty model suggests from uniform priors.
    let empty = Classifier::new().suggest("老公要离婚");
    assert_valid(&empty);
    assert!((empty.categories[0].score - 0.25).abs() < 1e-12);
}

#[test]
fn explains_the_leaders_with_the_callers_words() {
    let classifier = Classifier::shipped();
    let s = classifier.suggest("农民工讨薪，家里困难请不起律师");
    assert_valid(&s);
    assert_eq!(s.category(), Category::LegalAid);
    assert_eq!(s.subcategory(), Subcategory::LabourWages);
    let text = "农民工讨薪，家里困难请不起律师";
    for word in &s.cue_words {
        assert!(text.contains(word.as_str()), "{word:?} is not the caller's text");
    }
    assert!(!s.categories[0].cue_words.is_empty());
    assert!(s.categories[3].cue_words.is_empty(), "only the leaders are explained");
}

/// What RecordCall records: the same rankings as a suggestion, without the cue words.
#[test]
fn rankings_without_cue_words_match_the_suggestion() {
    let classifier = Classifier::shipped();
    for text in [PROBE, "邻居家装修把我家墙震裂了，想找人调解", "工地老板拖欠工资三个月不给", ""]
    {
        let full = classifier.suggest(text);
        let labels = classifier.rank_labels(text);
        let pairs = |s: &Suggestion| {
            (
                s.categories.iter().map(|c| (c.value, c.score)).collect::<Vec<_>>(),
                s.subcategories.iter().map(|c| (c.value, c.score)).collect::<Vec<_>>(),
            )
        };
        assert_eq!(pairs(&labels), pairs(&full), "{text}");
        assert!(labels.cue_words.is_empty());
        assert!(labels.categories.iter().all(|c| c.cue_words.is_empty()));
        assert!(labels.subcategories.iter().all(|c| c.cue_words.is_empty()));
        if !text.is_empty() {
            assert!(!full.cue_words.is_empty(), "the full suggestion explains itself: {text}");
        }
    }
}
