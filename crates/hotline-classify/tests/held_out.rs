//! The acceptance figures: accuracy on the held-out fifth of the shipped corpus, which
//! the evaluated model never trains on and the parameters were never tuned on.

use hotline_classify::{Classifier, corpus, eval};

#[test]
fn held_out_accuracy_meets_the_thresholds() {
    let (train, held_out) = corpus::split();
    let classifier = Classifier::train_split();
    assert_eq!(classifier.examples_learned(), train.len() as u64, "trained on the train split only");
    assert!(held_out.len() >= 120, "held-out split too small: {}", held_out.len());

    let e = eval::evaluate(&classifier, &held_out);
    println!("{}", e.to_markdown());
    assert!(e.categories.top1 >= 0.85, "category top-1 {:.3} < 0.85", e.categories.top1);
    assert!(e.categories.top2 >= 0.95, "category top-2 {:.3} < 0.95", e.categories.top2);
    for label in &e.categories.labels {
        assert!(label.support > 0, "no held-out example of {}", label.value);
    }
}

#[test]
fn no_held_out_text_is_in_the_training_split() {
    let (train, held_out) = corpus::split();
    let seen: std::collections::HashSet<&str> = train.iter().map(|e| e.text.as_str()).collect();
    assert!(held_out.iter().all(|e| !seen.contains(e.text.as_str())));
    assert!(held_out.iter().all(|e| corpus::is_held_out(&e.text)));
    assert!(train.iter().all(|e| !corpus::is_held_out(&e.text)));
}
