//! Latency of `Classifier::suggest`, the call made on every keystroke.
//!
//! `cargo bench -p hotline-classify --bench suggest`
//!
//! Plain `std::time::Instant` (no bench framework): a model trained on the training
//! split suggests every held-out text, plus every prefix of each (what the agent sees
//! while typing), after a warm-up pass. Prints mean, p50, p99 and max microseconds,
//! and the start-up and learning costs (build, snapshot save/load, learn).

use std::hint::black_box;
use std::time::Instant;

use hotline_classify::{Classifier, corpus};

fn main() {
    let classifier = Classifier::train_split();
    let (_, held_out) = corpus::split();

    let full: Vec<&str> = held_out.iter().map(|e| e.text.as_str()).collect();
    let prefixes: Vec<String> = held_out
        .iter()
        .flat_map(|e| {
            let chars: Vec<char> = e.text.chars().collect();
            (1..=chars.len()).map(move |n| chars[..n].iter().collect::<String>())
        })
        .collect();

    println!(
        "model: {} examples, {} features; host: {} cores, {}",
        classifier.examples_learned(),
        classifier.vocabulary_size(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    startup_costs();
    run(&classifier, "held-out texts (full)", &full);
    let prefix_refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    run(&classifier, "every typing prefix", &prefix_refs);
}

/// What a server pays at start-up and per confirmation: building the shipped model,
/// snapshot size, save and load, and `learn`.
fn startup_costs() {
    let start = Instant::now();
    let mut shipped = Classifier::shipped();
    let build = start.elapsed();
    let start = Instant::now();
    let json = shipped.to_json();
    let save = start.elapsed();
    let start = Instant::now();
    let loaded = Classifier::from_json(&json).expect("snapshot loads");
    let load = start.elapsed();
    black_box(loaded);

    // Learning: 200 confirmations; the median is the usual cost, the max includes
    // the occasional growth of the feature table when new n-grams arrive.
    let mut learn_micros: Vec<f64> = corpus::shipped()
        .iter()
        .take(200)
        .map(|e| {
            let text = format!("{}，来电人已确认", e.text);
            let start = Instant::now();
            shipped.learn(&text, e.category, e.subcategory);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    learn_micros.sort_by(f64::total_cmp);
    println!(
        "shipped model: built in {:.1} ms; snapshot {} KiB, saved in {:.1} ms, loaded in {:.1} ms",
        build.as_secs_f64() * 1e3,
        json.len() / 1024,
        save.as_secs_f64() * 1e3,
        load.as_secs_f64() * 1e3,
    );
    println!(
        "learn: median {:.1} us, max {:.1} us (200 confirmations)",
        learn_micros[learn_micros.len() / 2],
        learn_micros.last().copied().unwrap_or(0.0)
    );
}

fn run(classifier: &Classifier, label: &str, texts: &[&str]) {
    for t in texts {
        black_box(classifier.suggest(black_box(t)));
    }
    let rounds = 5;
    let mut micros = Vec::with_capacity(texts.len() * rounds);
    for _ in 0..rounds {
        for t in texts {
            let start = Instant::now();
            black_box(classifier.suggest(black_box(t)));
            micros.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    let pct = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
    println!(
        "{label}: {} calls, mean {mean:.1} us, p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        micros.len(),
        pct(0.50),
        pct(0.99),
        micros.last().copied().unwrap_or(0.0)
    );
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
