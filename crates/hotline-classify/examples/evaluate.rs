//! Prints the figures of docs/classification.md: corpus composition, cross-validation
//! on the training split, and the held-out evaluation of the train-split model.
//!
//! `cargo run --release -p hotline-classify --example evaluate`

use std::collections::BTreeMap;

use hotline_classify::{Classifier, Params, corpus, eval};
use hotline_domain::{Category, Subcategory};

fn main() {
    let all = corpus::shipped();
    let (train, held_out) = corpus::split();

    println!("## Corpus\n");
    println!("{} examples: {} train, {} held out.\n", all.len(), train.len(), held_out.len());
    let mut counts: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for e in &all {
        let c = Category::ALL.iter().position(|x| *x == e.category).unwrap_or(0);
        let s = Subcategory::ALL.iter().position(|x| *x == e.subcategory).unwrap_or(0);
        *counts.entry((s, c)).or_default() += 1;
    }
    let header: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    println!("| subcategory | {} | total |", header.join(" | "));
    println!("|---|{}---|", "---|".repeat(header.len()));
    for (s, sub) in Subcategory::ALL.iter().enumerate() {
        let row: Vec<usize> =
            (0..Category::ALL.len()).map(|c| counts.get(&(s, c)).copied().unwrap_or(0)).collect();
        let cells: Vec<String> = row.iter().map(usize::to_string).collect();
        println!("| {} | {} | {} |", sub.as_str(), cells.join(" | "), row.iter().sum::<usize>());
    }
    let totals: Vec<String> =
        Category::ALL.iter().map(|c| all.iter().filter(|e| e.category == *c).count().to_string()).collect();
    println!("| **total** | {} | {} |", totals.join(" | "), all.len());
    let lengths: Vec<usize> = all.iter().map(|e| e.text.chars().count()).collect();
    println!(
        "\nText length: {} to {} characters, mean {:.1}.\n",
        lengths.iter().min().unwrap_or(&0),
        lengths.iter().max().unwrap_or(&0),
        lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64
    );

    println!("## 5-fold cross-validation on the training split (used for tuning)\n");
    println!("{}", eval::cross_validate(&Params::default(), &train, 5).to_markdown());

    println!("## Held-out split, model trained on the training split only\n");
    let classifier = Classifier::train_split();
    println!("{}", eval::evaluate(&classifier, &held_out).to_markdown());
}
