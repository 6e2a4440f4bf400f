//! Routing decisions and nearby searches on the whole generated city (no database).
//!
//! `cargo bench -p hotline-store --bench routing`
//!
//! A routing decision is what the server does in memory for one order once it has read
//! its candidates' statuses: the policy's rule, the candidate list, and the walk down the
//! fallback chain. A nearby search is one radius query on the map index. Each is timed
//! one at a time with `Instant` (the timer's own cost, some tens of nanoseconds, is
//! included) over pre-generated random inputs.

use hotline_domain::geo::GeoIndex;
use hotline_domain::routing::{CentreInput, PersonStatus, RoutingIndex, RoutingPolicy};
use hotline_domain::{Category, InstitutionKind, Subcategory};
use hotline_store::RoutingSnapshot;
use hotline_store::citygen::generate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

const DECISIONS: usize = 200_000;
const SEARCHES: usize = 20_000;

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let n = times.len();
    let total: Duration = times.iter().sum();
    let at = |q: f64| times[((n as f64 * q) as usize).min(n - 1)];
    println!(
        "{what:<44} n={n:>7}  mean {:>9.2?}  p50 {:>9.2?}  p99 {:>9.2?}  max {:>9.2?}",
        total / n as u32,
        at(0.50),
        at(0.99),
        times[n - 1]
    );
}

fn main() {
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let dir = generate(12348);
    println!("generate the city                            {:>9.2?}", started.elapsed());
    let snap = RoutingSnapshot::from_directory(&dir);

    let started = Instant::now();
    let centres: Vec<CentreInput> = snap
        .institutions
        .iter()
        .filter(|i| matches!(i.kind, InstitutionKind::CommandCentre | InstitutionKind::LegalAidCentre))
        .map(|i| CentreInput { id: i.id.clone(), county_id: i.county_id.clone(), kind: i.kind })
        .collect();
    let index = RoutingIndex::build(&snap.villages, &snap.people, &centres);
    println!("build the routing index ({} villages)      {:>9.2?}", index.village_count(), started.elapsed());
    let started = Instant::now();
    let geo = GeoIndex::new(snap.institutions.iter().map(|i| (i.latitude, i.longitude)).collect());
    println!("build the map index ({} institutions)     {:>9.2?}", geo.len(), started.elapsed());

    // Everyone as the directory has them, each carrying a random load, some at capacity.
    let status: HashMap<String, PersonStatus> = dir
        .people
        .iter()
        .map(|p| {
            let open = rng.gen_range(0..=i64::from(p.capacity) + 2);
            (
                p.id.clone(),
                PersonStatus {
                    active: p.active,
                    on_leave: rng.gen_bool(0.02),
                    capacity: p.capacity,
                    open_orders: open,
                },
            )
        })
        .collect();
    let policy = RoutingPolicy::default();
    let villages: Vec<&str> = snap.villages.iter().map(|v| v.id.as_str()).collect();
    let work: Vec<(&str, Category, Subcategory, Option<Decimal>)> = (0..DECISIONS)
        .map(|_| {
            let amount = match rng.gen_range(0..4) {
                0 => None,
                _ => Some(Decimal::new(rng.gen_range(0..30_000_000), 2)),
            };
            (
                villages[rng.gen_range(0..villages.len())],
                Category::ALL[rng.gen_range(0..Category::ALL.len())],
                Subcategory::ALL[rng.gen_range(0..Subcategory::ALL.len())],
                amount,
            )
        })
        .collect();

    let decide = |(v, c, s, a): &(&str, Category, Subcategory, Option<Decimal>)| {
        let choice = policy.choose(*c, *s, *a);
        let ids = index.candidate_ids(v, choice.level).expect("known village");
        black_box(ids.len());
        index.route(v, choice, &status).expect("known village")
    };
    for w in work.iter().take(10_000) {
        black_box(decide(w));
    }
    let mut times = Vec::with_capacity(DECISIONS);
    let mut fallbacks = 0usize;
    for w in &work {
        let t = Instant::now();
        let route = black_box(decide(w));
        times.push(t.elapsed());
        fallbacks += usize::from(route.reason.fallback);
    }
    report("routing decision (rule + candidates + route)", times);
    println!("  ({fallbacks} of {DECISIONS} decisions fell back past the first step)");

    let points: Vec<(f64, f64)> = (0..SEARCHES)
        .map(|_| {
            let (lat, lon) = snap.village_coords[villages[rng.gen_range(0..villages.len())]];
            (lat + rng.gen_range(-0.02..0.02), lon + rng.gen_range(-0.02..0.02))
        })
        .collect();
    for (kinds, label, radius) in [
        (vec![], "nearby, 5 km, every kind", 5.0),
        (vec![InstitutionKind::JudicialOffice, InstitutionKind::LawFirm], "nearby, 5 km, two kinds", 5.0),
        (vec![], "nearby, 20 km, every kind, 50 nearest", 20.0),
    ] {
        let limit = if radius > 10.0 { 50 } else { 500 };
        let mut times = Vec::with_capacity(SEARCHES);
        let mut found = 0usize;
        for &(lat, lon) in &points {
            let t = Instant::now();
            let r = black_box(geo.within(lat, lon, radius, limit, |n| {
                kinds.is_empty() || kinds.contains(&snap.institutions[n].kind)
            }));
            times.push(t.elapsed());
            found += r.len();
        }
        report(label, times);
        println!("  (on average {:.1} institutions found)", found as f64 / SEARCHES as f64);
    }
}
