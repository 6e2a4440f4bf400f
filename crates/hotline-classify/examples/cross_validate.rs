//! Parameter tuning by 5-fold cross-validation on the TRAINING split only.
//!
//! `cargo run --release -p hotline-classify --example cross_validate`
//!
//! The held-out split is not touched here: it is evaluated with the chosen defaults
//! by the `held_out_accuracy` test and the `evaluate` example. The two heads are
//! independent given the features, so each head's smoothing is chosen from its own
//! column. The grid runs at temperature 1 (pure naive Bayes ranking); temperatures
//! are chosen last, by log loss (they divide the evidence but not the prior, so they
//! can move a close call towards the commoner label).

use hotline_classify::{Params, corpus, eval};

fn main() {
    let (train, _held_out_never_used_here) = corpus::split();
    println!("train split: {} examples, 5 folds\n", train.len());
    println!("max_ngram cue_weight alpha | cat top1 top2 logloss | sub top1 top2 logloss");
    for max_ngram in [2, 3] {
        for cue_weight in [0, 3, 5, 8] {
            for alpha in [0.1, 0.3, 1.0, 3.0] {
                let params = Params {
                    max_ngram,
                    cue_weight,
                    category_alpha: alpha,
                    subcategory_alpha: alpha,
                    category_temperature: 1.0,
                    subcategory_temperature: 1.0,
                };
                let e = eval::cross_validate(&params, &train, 5);
                println!(
                    "{max_ngram} {cue_weight} {alpha:<5} | {:.3} {:.3} {:.3} | {:.3} {:.3} {:.3}",
                    e.categories.top1,
                    e.categories.top2,
                    e.categories.log_loss,
                    e.subcategories.top1,
                    e.subcategories.top2,
                    e.subcategories.log_loss
                );
            }
        }
    }

    println!("\ntemperatures for the defaults (other parameters as shipped)");
    println!("temperature | cat top1 top2 logloss | sub top1 top2 logloss");
    for t in [1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0] {
        let params = Params { category_temperature: t, subcategory_temperature: t, ..Params::default() };
        let e = eval::cross_validate(&params, &train, 5);
        println!(
            "{t:<4} | {:.3} {:.3} {:.3} | {:.3} {:.3} {:.3}",
            e.categories.top1,
            e.categories.top2,
            e.categories.log_loss,
            e.subcategories.top1,
            e.subcategories.top2,
            e.subcategories.log_loss
        );
    }
}
