//! The fund's split, for any amount and shares: the parts add up to the amount exactly,
//! each is within a fen of its exact share, and the fen left over went where the rule
//! says (`hotline_domain::fund`).

use hotline_domain::fund::{LEVEL_SHARES, split};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

proptest! {
    #[test]
    fn parts_add_up_and_follow_the_rule(
        fen in 0i64..=1_000_000_000_000_000,
        shares in prop::collection::vec(0u32..=1000, 1..6),
    ) {
        prop_assume!(shares.iter().any(|&s| s > 0));
        let amount = Decimal::new(fen, 2);
        let parts = split("amount", amount, &shares).unwrap();
        prop_assert_eq!(parts.len(), shares.len());
        prop_assert_eq!(parts.iter().sum::<Decimal>(), amount);
        let total: i128 = shares.iter().map(|&s| i128::from(s)).sum();
        // In fen, times `total`: a part's exact share is fen * share.
        let got: Vec<i128> = parts.iter().map(|p| (p * Decimal::ONE_HUNDRED).to_i128().unwrap()).collect();
        let mut raised = Vec::new();
        for (i, (&g, &s)) in got.iter().zip(&shares).enumerate() {
            let exact = i128::from(fen) * i128::from(s);
            let floor = exact / total;
            prop_assert!(g == floor || g == floor + 1, "part {} is {} fen, its share {}/{}", i, g, exact, total);
            if g == floor + 1 {
                raised.push(i);
            }
        }
        // The raised parts lost the most in rounding down; between equals, the earlier.
        let loss = |i: usize| i128::from(fen) * i128::from(shares[i]) % total;
        for &r in &raised {
            for j in 0..shares.len() {
                if raised.contains(&j) {
                    continue;
                }
                prop_assert!(loss(r) > loss(j) || (loss(r) == loss(j) && r < j), "fen went to {} before {}", r, j);
            }
        }
    }

    #[test]
    fn the_level_split_is_exact_for_any_yuan_amount(fen in 0i64..=100_000_000_000) {
        let amount = Decimal::new(fen, 2);
        let parts = split("amount", amount, &LEVEL_SHARES).unwrap();
        prop_assert_eq!(parts[0] + parts[1] + parts[2], amount);
    }
}
